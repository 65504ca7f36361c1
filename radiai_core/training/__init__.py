"""Training commands for RadiAI's models (TensorFlow/Keras; not needed at inference)."""
