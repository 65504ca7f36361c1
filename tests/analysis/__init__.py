"""Tests of radiai_core.analysis, one file per module."""
