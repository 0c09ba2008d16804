"""The project's Pulumi components.

The GKE rule engine (``gke``) lives inside the policy pack, in ``policy/gke``, because
``pulumi policy publish`` archives only ``policy/``; the program, ``ops`` and the tests import that
same copy. Importing this package puts ``policy/`` on ``sys.path`` once, so ``gke`` has one module
identity everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))
