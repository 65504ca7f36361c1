"""Tests of radiai_core.node, one file per module."""
