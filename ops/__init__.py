"""Offline and live checks of the program: render, check, verify, promote, diff."""

import components  # noqa: F401  (puts the pack's rule engine, policy/gke, on sys.path)
