"""Analysis: an ``XrayImage`` through the model set becomes an ``Analysis``, the one result type.

``models.load_models`` reads a models folder (every subfolder a model its manifest describes:
classifiers, the lung mask, the scope gate); ``pipeline.Analyzer`` runs CLAHE, the lung mask, the
gate (``gate``), every classifier and, for a positive call, the evidence (``explain``: an
occlusion map of the model's own log-odds; ``zones``: the lung zones holding it; ``regions``:
boxes around its peaks), and returns one ``findings.Findings`` per classifier (or ensemble) of
the set.
"""

from .findings import Decision, Findings
from .models import ModelSet, load_models
from .pipeline import NOTICE, Analysis, Analyzer, analyze, default_analyzer

__all__ = ["NOTICE", "Analysis", "Analyzer", "Decision", "Findings", "ModelSet", "analyze",
           "default_analyzer", "load_models"]
