"""The project's Pulumi components.

The GKE rule engine (``gke``) lives inside the policy pack, in ``policy/gke``, because
``pulumi policy publish`` archives only ``policy/``. It is a package of its own
(``policy/pyproject.toml``), installed editable into every virtualenv that runs the program
(pyproject.toml's ``[tool.uv.sources]``: ``uv sync``, ``make setup``, engine/deploy_venv.py), so the program, ``ops`` and the tests import
that one copy plainly.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"

# A virtualenv made before the rule engine was a package lacks it: say so in one line, not a traceback.
if find_spec("gke") is None:
    raise SystemExit(
        "components: the rule engine `gke` is not installed in this Python. Fix: `make setup`, "
        "or `uv sync --frozen` (pyproject.toml installs it editable, as `pulumi up` does)."
    )
