"""The virtualenv `pulumi up` builds for this program: requirements-pip.lock then requirements.lock (the deploy
lock only, hashes required) and the rule engine in policy/ linked in, cached under ~/.cache keyed by both
locks, the Python version and the checkout whose policy/ it links.

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
POLICY = ROOT / "policy"
# What an editable install of policy/pyproject.toml leaves in site-packages: a path entry for policy/. Written
# directly because the deploy lock holds no build backend (Python 3.11's bundled setuptools 65 cannot build
# an editable wheel without `wheel`) and a build-isolated install would need the network.
POLICY_PTH = "coditect-gke-rules.pth"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "coditect" / "deploy-venv"
INSTALL_TIMEOUT_SEC = 900


class DeployVenvError(Exception):
    """The virtualenv could not be built; the message says which step and why."""


def lock_key() -> str:
    digest = hashlib.sha256(sys.version.encode())
    digest.update(str(POLICY).encode())  # each checkout links its own rule engine
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
        link_policy(build / "bin" / "python")
        try:
            build.rename(target)
        except OSError:  # another builder finished first
            shutil.rmtree(build, ignore_errors=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(build, ignore_errors=True)
        detail = getattr(error, "stderr", "") or ""
        raise DeployVenvError(f"cannot build the deploy virtualenv from {' + '.join(LOCKS)}: {error}; {str(detail)[-600:]}") from None
    return python


def link_policy(python: Path) -> None:
    """Put policy/ on the virtualenv's path (as `pip install -e ./policy` does), so `import gke` is plain."""
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    (Path(site) / POLICY_PTH).write_text(f"{POLICY}\n", encoding="utf-8")


if __name__ == "__main__":
    try:
        print(deploy_python())
    except DeployVenvError as failure:
        sys.exit(f"engine: {failure}")
