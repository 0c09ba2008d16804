"""`python -m ops.tools actionlint|shellcheck [FILE...]`: the workflow and shell linters where `make setup` puts them.

actionlint is built from the Go module proxy into ~/.cache/coditect-tools/bin (`make tools`), outside the
checkout, so hooks and tests call it through here instead of a path that differs per machine; shellcheck
comes from Debian. A missing tool is one line naming how to install it (exit 2).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ACTIONLINT = Path.home() / ".cache" / "coditect-tools" / "bin" / "actionlint"
INSTALL = {"actionlint": "make tools", "shellcheck": "apt-get install shellcheck"}


def path_of(tool: str) -> Path | None:
    if tool == "actionlint":
        return ACTIONLINT if ACTIONLINT.is_file() else None
    found = shutil.which(tool)
    return Path(found) if found else None


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in INSTALL:
        sys.stderr.write(f"usage: python -m ops.tools {'|'.join(INSTALL)} [FILE...]\n")
        return 2
    tool, files = argv[0], argv[1:]
    binary = path_of(tool)
    if binary is None:
        sys.stderr.write(f"error: {tool} is not installed. Fix: {INSTALL[tool]}\n")
        return 2
    command = [str(binary), *files]
    if tool == "actionlint" and (shellcheck := path_of("shellcheck")) is not None:
        command[1:1] = ["-shellcheck", str(shellcheck)]
    if tool == "shellcheck":
        command[1:1] = ["-x"]  # follow `source` directives (paths from the checkout's root, where hooks run)
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
