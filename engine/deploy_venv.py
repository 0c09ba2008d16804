"""The virtualenv `pulumi up` builds for this program: requirements-pip.lock then requirements.lock (the deploy
lock only, hashes required), cached under ~/.cache keyed by both locks and the Python version.

    python engine/deploy_venv.py      # builds when needed, prints the virtualenv's interpreter

Used by the tests that run the program or its hook where `pulumi up` runs them, and by the engine suite.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements-pip.lock", "requirements.lock")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "coditect" / "deploy-venv"
INSTALL_TIMEOUT_SEC = 900


class DeployVenvError(Exception):
    """The virtualenv could not be built; the message says which step and why."""


def lock_key() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for lock in LOCKS:
        digest.update((ROOT / lock).read_bytes())
    return digest.hexdigest()[:16]


def deploy_python() -> Path:
    """The cached virtualenv's interpreter, built (into a temporary directory, then renamed into place so
    parallel builders never see half an install) when the locks changed."""
    target = CACHE / lock_key()
    python = target / "bin" / "python"
    if python.is_file():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=CACHE, prefix="build-"))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(build)], check=True, capture_output=True, timeout=120)
        for lock in LOCKS:
            subprocess.run([str(build / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes",
                            "-r", str(ROOT / lock)], check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SEC)
        try:
            build.rename(target)
        except OSError:  # another builder finished first
            shutil.rmtree(build, ignore_errors=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(build, ignore_errors=True)
        detail = getattr(error, "stderr", "") or ""
        raise DeployVenvError(f"cannot build the deploy virtualenv from {' + '.join(LOCKS)}: {error}; {str(detail)[-600:]}") from None
    return python


if __name__ == "__main__":
    try:
        print(deploy_python())
    except DeployVenvError as failure:
        sys.exit(f"engine: {failure}")
