"""The command side of the kubeconfig loader (livestate/kubeconfig/): which context a stack's
commands use, the check made before anything slow, and the engine's `Unusable` as a UsageError (exit 2)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livestate.errors import Unusable
from livestate.kubeconfig import check_context
from ops.errors import UsageError

STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@contextmanager
def usage_errors() -> Iterator[None]:
    """Input the live-state engine refuses (a kubeconfig, the manifests) is a usage error of the command."""
    try:
        yield
    except Unusable as error:
        raise UsageError(str(error)) from None


def stack_context(stack: str, root: Path) -> str | None:
    """The stack file's `<project>:cluster.context`, read without rendering; None when it cannot be
    read here (rendering then says why, with the settings' own messages)."""
    from ops import stack_files

    if not STACK_NAME.fullmatch(stack) or stack in (".", ".."):
        return None
    try:
        name = stack_files.read(root / "Pulumi.yaml").get("name")
        config = stack_files.read(root / f"Pulumi.{stack}.yaml").get("config") or {}
    except UsageError:
        return None
    cluster = config.get(f"{name}:cluster") if isinstance(config, dict) else None
    context = cluster.get("context") if isinstance(cluster, dict) else None
    return context if isinstance(context, str) and context else None


def preflight(explicit: str | None, context: str | None, stack: str, root: Path) -> None:
    """Before rendering: refuse a kubeconfig that is missing, malformed or lacks the stack's context."""
    with usage_errors():
        check_context(explicit, context or stack_context(stack, root))
