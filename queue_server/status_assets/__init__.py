"""The status page's scripts (read with importlib.resources; no Python here)."""
