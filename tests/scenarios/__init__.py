"""Scenario suites that cross modules: hostile and fuzzed files, the reading room, a site's own
model, refusals, concurrent writers, the evidence in every face."""
