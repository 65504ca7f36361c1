"""Tests of radiai_core.cli, one file per module."""
