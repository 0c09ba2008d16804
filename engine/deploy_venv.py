"""The virtualenvs the Pulumi CLI builds for this project, built the way it builds them: for the program, `uv sync`
in the directory of uv.lock with UV_PROJECT_ENVIRONMENT set to the virtualenv (Pulumi.yaml's `toolchain: uv`);
for the policy pack, the same in policy/ from policy/uv.lock (PulumiPolicy.yaml). pulumi/pulumi
sdk/python/toolchain/uv.go: InstallDependencies runs `uv sync`, uvCommand sets UV_PROJECT_ENVIRONMENT.

Here `--locked` is added: it installs exactly what the plain `uv sync` installs, and fails instead of rewriting
the lock when the lock no longer matches pyproject.toml (the plain sync would re-resolve, so `pulumi up` would
run versions no test ran). Each virtualenv is cached under ~/.cache, outside the repository, keyed by the lock,
pyproject.toml, the Python version and the checkout (whose src/ the editable install of the package points at).

    python engine/deploy_venv.py [--pack]   # builds when needed, prints the virtualenv's interpreter

Used by the tests that run the program or its hook where `pulumi up` runs them, and by the engine suite.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT  # Pulumi.yaml, pyproject.toml, uv.lock
PACK = ROOT / "policy"  # PulumiPolicy.yaml, pyproject.toml, uv.lock
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "coditect" / "deploy-venv"
COMPLETE = ".coditect-complete"  # written after a sync succeeded: a half-built virtualenv is never used
INSTALL_TIMEOUT_SEC = 900


class DeployVenvError(Exception):
    """The virtualenv could not be built; the message says which step and why."""


def uv_binary() -> Path:
    """uv beside this interpreter (`make setup` installs it from requirements-pip.lock), else on PATH, as the CLI finds it."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        raise DeployVenvError("uv not found beside the interpreter or on PATH: run `make setup` (requirements-pip.lock installs it)")
    return Path(found)


def lock_key(project: Path) -> str:
    digest = hashlib.sha256(sys.version.encode())
    digest.update(str(project).encode())  # each checkout installs its own src/ editable
    for name in ("uv.lock", "pyproject.toml"):
        digest.update((project / name).read_bytes())
    return digest.hexdigest()[:16]


def sync_command(uv: Path) -> list[str]:
    """uv.go's `uv sync`, with --locked (see the module docstring) and this interpreter for a new virtualenv."""
    return [str(uv), "sync", "--locked", "--python", sys.executable]


def uv_error(error: subprocess.CalledProcessError | subprocess.TimeoutExpired) -> str:
    """uv's own `error:` line (e.g. "The lockfile at `uv.lock` needs to be updated"), else the end of its output."""
    if isinstance(error, subprocess.TimeoutExpired):
        return f"no answer within {INSTALL_TIMEOUT_SEC} s"
    stderr = str(error.stderr or "")
    lines = [line.removeprefix("error: ").strip() for line in stderr.splitlines() if line.startswith("error:")]
    return " ".join(lines) or stderr.strip()[-600:] or f"exit status {error.returncode}"


def build(project: Path) -> Path:
    """The interpreter of `project`'s virtualenv, synced from its uv.lock when the cache has none yet."""
    target = CACHE / f"{'pack' if project == PACK else 'program'}-{lock_key(project)}"
    python = target / "bin" / "python"
    if (target / COMPLETE).is_file():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    uv = uv_binary()
    # One builder per virtualenv; the others wait, then find it complete.
    with open(CACHE / f"{target.name}.lock", "w", encoding="utf-8") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if (target / COMPLETE).is_file():
            return python
        shutil.rmtree(target, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
        env["UV_PROJECT_ENVIRONMENT"] = str(target)
        try:
            subprocess.run(sync_command(uv), cwd=project, env=env, check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SEC)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            shutil.rmtree(target, ignore_errors=True)
            raise DeployVenvError(f"cannot build the virtualenv of {project / 'uv.lock'} with `uv sync --locked`: {uv_error(error)}") from None
        (target / COMPLETE).write_text(str(project / "uv.lock") + "\n", encoding="utf-8")
    return python


def deploy_python() -> Path:
    """What `pulumi up` runs the program in: the package, uv.lock's [project.dependencies] and the default group."""
    return build(PROGRAM)


def pack_python() -> Path:
    """What `pulumi preview --policy-pack policy` runs the pack in: policy/uv.lock's default group."""
    return build(PACK)


if __name__ == "__main__":
    try:
        print(pack_python() if sys.argv[1:] == ["--pack"] else deploy_python())
    except DeployVenvError as failure:
        sys.exit(f"engine: {failure}")
