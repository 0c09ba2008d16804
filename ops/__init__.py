"""Offline and live checks of the program: render, check, verify, promote, diff."""

from importlib.util import find_spec

# The components and their rule engine are the package in src/ (pyproject.toml); a virtualenv made
# before they were one lacks it, and every command would end in a ModuleNotFoundError traceback.
if find_spec("coditect") is None:
    raise SystemExit("ops: the component package `coditect` is not installed in this Python. Fix: `make setup`, or `.venv/bin/uv sync --frozen --all-groups`.")
