"""Offline and live checks of the program: render, check, verify, promote, diff."""

from importlib.util import find_spec

# The rule engine is a package of its own (policy/pyproject.toml); a virtualenv made before it was one
# lacks it, and every command would end in a ModuleNotFoundError traceback.
if find_spec("gke") is None:
    raise SystemExit("ops: the rule engine `gke` is not installed in this Python. Fix: `make setup`, or `.venv/bin/uv sync --frozen --all-groups`.")
