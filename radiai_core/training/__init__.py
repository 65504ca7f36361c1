"""Training: the recipes that make RadiAI's models (TensorFlow/Keras; not needed to run them) and
the evaluation that chooses them. Labelled tables and patient-grouped splits in ``datasets``,
metrics in ``evaluate``, the model-selection protocol in ``protocol``.

Nothing is imported here: TensorFlow loads only when a recipe runs.
"""

__all__ = ["ablation", "classifier", "common", "datasets", "evaluate", "export",
           "faithfulness", "finalize", "gate", "lung_mask", "protocol", "threshold"]
