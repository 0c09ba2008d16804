"""The command's own time for `ops rollback prod` (history read from git, two renders, the diffs, the
all-or-nothing write), in a temporary git repository of the project holding two releases; median of
N runs, each from the same repository state. The write-up's manual rollback took two minutes.

    python bench/rollback_speed.py [N]
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ops.rollback import rollback  # noqa: E402
from tests.conftest import copy_project  # noqa: E402
from tests.test_rollback import IDE, NGINX, commit, digest, git, set_release  # noqa: E402


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 5
    with tempfile.TemporaryDirectory() as scratch:
        root = copy_project(Path(scratch))
        git(root, "init", "-q", "-b", "main")
        commit(root, "prod as committed", 1)
        set_release(root, "9.9.9", f"{NGINX}@{digest('9a')}", f"{IDE}@{digest('9b')}")
        commit(root, "prod 9.9.9", 2)
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            code = rollback("prod", io.StringIO(), root=root)
            seconds.append(time.perf_counter() - started)
            if code != 0:
                print(f"rollback exited {code}", file=sys.stderr)
                return 1
            git(root, "checkout", "-q", "--", ".")  # back to 9.9.9 for the next run
    print(
        f"ops rollback prod: median {statistics.median(seconds):.2f} s over {runs} runs "
        f"(min {min(seconds):.2f} s, max {max(seconds):.2f} s); the manual rollback took 120 s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
