"""Limits that protect memory and time, shared by every loader."""

#: Largest image accepted, in pixels (rows × columns): 50 megapixels.
MAX_PIXELS = 50_000_000
