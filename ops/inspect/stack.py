"""The stack's desired state for `ops inspect`: from the golden render (rendered/<stack>/kubernetes.yaml)
when it is current, else from running the program in memory (seconds under the SDK).

"Current" is decided soundly, never trusted: when the program is run, the desired state it gives is
compared with the one the golden file gives, and only when they are equal is a stamp written
(.cache/inspect/<stack>.json, not committed) holding the digest of every input of that run and the
digest of the golden file. A later run reads the golden file only when both digests match again. The
inputs: the stack's engine configuration as the program receives it (project defaults, the stack file,
an ESC environment's values), the program's and the renderer's sources (__main__.py, src/coditect/,
policy/, ops/, livestate/), the project and its lock (uv.lock), the Python version and the Pulumi SDK versions.
Any change to any of them renders again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from livestate.desired import Desired, StackTarget, desired_from_manifests, with_cluster
from ops.errors import UsageError
from ops.kubeconfig import usage_errors

KUBERNETES_FILE = Path("rendered") / "{stack}" / "kubernetes.yaml"
STAMP = Path(".cache") / "inspect" / "{stack}.json"
SOURCE_DIRECTORIES = ("src", "policy", "ops", "livestate")
SOURCE_FILES = ("__main__.py", "Pulumi.yaml", "pyproject.toml", "uv.lock", "requirements-pip.lock")
DISTRIBUTIONS = ("pulumi", "pulumi-kubernetes", "pulumi-gcp")
SKIPPED = frozenset({"__pycache__", ".venv", "node_modules", "build"})


def desired_state(stack: str, root: Path) -> tuple[Desired, StackTarget]:
    """The stack's desired state and target."""
    desired, target, _source = load(stack, root)
    return desired, target


def load(stack: str, root: Path) -> tuple[Desired, StackTarget, str]:
    """(desired state, target, where the state came from: "golden" or "rendered")."""
    from ops.stack_check import settings_for

    config, secret_keys, settings = settings_for(stack, root)
    target = with_cluster(StackTarget(settings.cluster.context, str(config.get("gcp:project", ""))), settings)
    inputs = inputs_digest(config, secret_keys, root)
    golden = root / str(KUBERNETES_FILE).format(stack=stack)
    golden_bytes = _read(golden)
    if golden_bytes is not None and _stamp(root, stack) == {"inputs": inputs, "golden": _sha(golden_bytes)}:
        return _from_golden(golden_bytes, golden), target, "golden"
    desired = _rendered(stack, root, config, secret_keys)
    if golden_bytes is not None and _golden_desired(golden_bytes, golden) == desired:
        _write_stamp(root, stack, {"inputs": inputs, "golden": _sha(golden_bytes)})
    return desired, target, "rendered"


def _rendered(stack: str, root: Path, config: dict[str, str], secret_keys: list[str]) -> Desired:
    """Run the stack's program in memory (as `pulumi up` would) and read its desired state."""
    import pulumi

    from ops.manifests import manifests_of
    from ops.program import run_program

    try:
        run = run_program(stack, config=config, secret_keys=secret_keys, root=root)
    except pulumi.RunError as error:  # the program refuses this stack: nothing to compare against
        raise UsageError(f"the program refuses stack {stack}: {error}") from None
    with usage_errors():
        return desired_from_manifests(manifests_of(run))


def _golden_desired(raw: bytes, path: Path) -> Desired | None:
    """The golden file's desired state; None when it cannot give one (then it is not current)."""
    try:
        return _from_golden(raw, path)
    except UsageError:
        return None


def _from_golden(raw: bytes, path: Path) -> Desired:
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = [d for d in yaml.load_all(raw, Loader=loader) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not YAML ({str(error).splitlines()[0]}). Fix: python -m ops render STACK") from None
    if not all(isinstance(d, dict) for d in documents):
        raise UsageError(f"{path}: a document is not a mapping. Fix: python -m ops render STACK")
    with usage_errors():
        return desired_from_manifests(documents)


def inputs_digest(config: Mapping[str, str], secret_keys: Iterable[str], root: Path) -> str:
    """sha256 of everything the rendered manifests depend on (the module docstring lists it)."""
    from importlib import metadata

    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {"config": dict(config), "secrets": sorted(secret_keys), "python": sys.version, "sdk": {d: _version(metadata, d) for d in DISTRIBUTIONS}},
            sort_keys=True,
        ).encode()
    )
    for path in _sources(root):
        digest.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
        digest.update(_read(path) or b"\0missing")
    return digest.hexdigest()


def _version(metadata: Any, distribution: str) -> str | None:
    try:
        return str(metadata.version(distribution))
    except metadata.PackageNotFoundError:
        return None


def _sources(root: Path) -> list[Path]:
    found = [root / name for name in SOURCE_FILES]
    for directory in SOURCE_DIRECTORIES:
        for here, dirs, files in os.walk(root / directory):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED and not d.endswith(".egg-info"))
            found += [Path(here) / f for f in sorted(files) if f.endswith(".py")]
    return found


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _stamp(root: Path, stack: str) -> Any:
    raw = _read(root / str(STAMP).format(stack=stack))
    try:
        return json.loads(raw) if raw is not None else None
    except ValueError:
        return None  # a torn or edited stamp: render again


def _write_stamp(root: Path, stack: str, stamp: Mapping[str, str]) -> None:
    """Best effort: a read-only checkout renders every time, which is slower, not wrong."""
    from ops.atomic import write_files
    from ops.errors import WriteError

    path = root / str(STAMP).format(stack=stack)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_files({path: json.dumps(stamp, sort_keys=True) + "\n"})  # atomic: a reader sees the old stamp or the new
    except (OSError, WriteError):
        return
