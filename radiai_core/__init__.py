"""RadiAI core: chest radiograph loading, preprocessing, models and results, with no Qt."""
