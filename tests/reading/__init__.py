"""Tests of radiai_core.reading, one file per module."""
