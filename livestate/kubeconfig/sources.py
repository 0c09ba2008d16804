"""Where the kubeconfig comes from (kubectl's order: --kubeconfig, $KUBECONFIG, ~/.kube/config), how to
get one when there is none, and the bounded read of any file it names (regular files only, size-capped)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from livestate.errors import Unusable, clip
from livestate.kubeconfig.display import show
from livestate.kubeconfig.limits import GKE_CONTEXT


@dataclass(frozen=True)
class Source:
    """The kubeconfig files to read, in precedence order, and what named them."""

    paths: tuple[Path, ...]
    origin: str  # "--kubeconfig", "$KUBECONFIG" or "~/.kube/config"

    def describe(self) -> str:
        return f"{self.origin} ({', '.join(show(str(p), 200) for p in self.paths)})"


def locate(explicit: str | None, environ: Mapping[str, str] | None = None) -> Source | None:
    """The files kubectl would read; None when there is no kubeconfig at all."""
    environ = os.environ if environ is None else environ
    if explicit:
        return Source((_expanded(explicit),), "--kubeconfig")  # must exist: read() says so if not
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths = [_expanded(p) for p in dict.fromkeys(listed.split(os.pathsep)) if p]
        existing = tuple(p for p in paths if os.path.lexists(p))
        return Source(existing, "$KUBECONFIG") if existing else None
    home = Path(environ.get("HOME") or Path.home()) / ".kube" / "config"
    return Source((home,), "~/.kube/config") if os.path.lexists(home) else None


def _expanded(path: str) -> Path:
    try:
        return Path(path).expanduser()
    except RuntimeError:  # ~user of no such user
        return Path(path)


def where_looked(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if environ.get("KUBECONFIG"):
        return f"no file of $KUBECONFIG ({show(environ['KUBECONFIG'], 200)}) exists"
    return "--kubeconfig not given, $KUBECONFIG not set and ~/.kube/config does not exist"


def credentials_command(context: str | None) -> str:
    """How to get a kubeconfig holding `context`."""
    match = GKE_CONTEXT.fullmatch(context or "")
    if match:
        return (
            f"gcloud container clusters get-credentials {match['name']} --location {match['location']} --project {match['project']}"
            f" (writes context {context} to ~/.kube/config)"
        )
    if context == "coditect-local":  # ops/cluster.py writes it
        return "python -m ops cluster start, then pass --kubeconfig .engine/kubeconfig"
    return f"pass --kubeconfig FILE of a kubeconfig holding context {clip(repr(context), 100)}" if context else "pass --kubeconfig FILE"


def require_present(explicit: str | None, context: str | None, environ: Mapping[str, str] | None = None) -> Source:
    """The kubeconfig's files, or Unusable saying there is none and which command writes one."""
    source = locate(explicit, environ)
    if source is None:
        raise Unusable(f"no kubeconfig: {where_looked(environ)}. Fix: {credentials_command(context)}")
    return source


def read_bounded(path: Path, what: str, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit`, or Unusable naming `what` and why."""
    shown = show(str(path), 200)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise Unusable(f"{what}: {shown} is {_file_kind(os.stat(path).st_mode)}, not a regular file. Fix: point it at the file itself")
        # O_NONBLOCK: a file swapped for a FIFO after the stat opens at once instead of waiting for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise Unusable(f"{what}: {shown} is not a regular file. Fix: point it at the file itself")
            raw = stream.read(limit + 1)
    except FileNotFoundError:
        raise Unusable(f"{what}: {shown} does not exist") from None
    except OSError as error:
        raise Unusable(f"{what}: {shown} cannot be read: {error.strerror or error}") from None
    except ValueError:  # a NUL in the path
        raise Unusable(f"{what}: {shown} is not a path (it holds a NUL character)") from None
    if len(raw) > limit:
        raise Unusable(f"{what}: {shown} is larger than {limit} bytes, the most this reader takes. Fix: point it at the right file")
    return raw


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"
