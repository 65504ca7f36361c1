"""RadiAI desktop viewer (PyQt5): a thin shell over radiai_core."""
