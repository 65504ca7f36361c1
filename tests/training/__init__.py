"""Tests of radiai_core.training, one file per module."""
