"""Tests of radiai_core.results, one file per module."""
