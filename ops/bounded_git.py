"""git, run under bounds: one call's time (GIT_TIMEOUT_S) and output (GIT_MAX_OUTPUT), a whole reading's
deadline (HISTORY_DEADLINE_S), stdin fed and stdout/stderr drained together so neither pipe can block,
and the user's git settings that would change `git log`'s output fixed. `ops history` and `ops rollback`
read the stack file's history through it (ops/history.py).
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from pathlib import Path

from ops.errors import Refused, clip

# Bounds (README, "Bounds"): each git call gets GIT_TIMEOUT_S, the whole reading HISTORY_DEADLINE_S, and
# git's answer is cut at GIT_MAX_OUTPUT bytes.
GIT_TIMEOUT_S = 30.0
HISTORY_DEADLINE_S = 60.0
GIT_MAX_OUTPUT = 16 << 20
# Settings of the user's git that would change what `git log` prints (a signature check on stdout, renames
# followed into paths cat-file is not asked for): fixed for ops' own calls.
_GIT_SETTINGS = ("-c", "log.showSignature=false", "-c", "log.follow=false", "-c", "i18n.logOutputEncoding=UTF-8", "-c", "core.pager=cat")


class _Deadline:
    """The time left of one history reading, so that git's calls together stay within HISTORY_DEADLINE_S."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = HISTORY_DEADLINE_S if seconds is None else seconds
        self.ends = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.ends - time.monotonic()


def git(root: Path, *arguments: str, stdin: bytes | None = None, deadline: _Deadline | None = None, max_output: int | None = None) -> bytes:
    """git's output in `root`, or Refused saying why git could not answer: not installed, failed, slower than
    GIT_TIMEOUT_S (or the reading's deadline), or more than `max_output` bytes."""
    timeout = min(GIT_TIMEOUT_S, deadline.left()) if deadline is not None else GIT_TIMEOUT_S
    max_output = GIT_MAX_OUTPUT if max_output is None else max_output
    if timeout <= 0:
        raise Refused(
            f"reading the history took more than {deadline.seconds if deadline else GIT_TIMEOUT_S:g} s (the bound); "
            "nothing was changed. Fix: run it again on a less loaded machine, or restore the release by hand"
        )
    command = ["git", "-C", str(root), *_GIT_SETTINGS, *arguments]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}  # never ask, never take the index lock
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
    except FileNotFoundError:
        raise Refused("git is not installed: the release history is read from git. Fix: install git") from None
    try:
        out, err, problem = _collect(process, stdin, timeout, max_output)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    if problem == "time":
        raise Refused(
            f"git {arguments[0]} did not answer within {timeout:.3g} s (the bound); nothing was changed. "
            "Fix: run it again; if git is this slow here, `git gc` the repository"
        )
    if problem == "size":
        raise Refused(f"git {arguments[0]} answered more than {max_output} bytes (the bound); nothing was changed")
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise Refused(f"git {arguments[0]} failed in {clip(str(root), 200)}: {clip(message[-1] if message else 'no message', 300)}")
    return out


def _collect(process: subprocess.Popen[bytes], stdin: bytes | None, timeout: float, max_output: int) -> tuple[bytes, bytes, str | None]:
    """(stdout, stderr, None), or the problem ("time", "size") that stopped reading; stdin is fed as git reads it."""
    ends = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    pending = memoryview(stdin or b"")
    with selectors.DefaultSelector() as selector:
        assert process.stdout is not None and process.stderr is not None
        selector.register(process.stdout, selectors.EVENT_READ, out)
        selector.register(process.stderr, selectors.EVENT_READ, err)
        if process.stdin is not None:
            if pending:
                os.set_blocking(process.stdin.fileno(), False)
                selector.register(process.stdin, selectors.EVENT_WRITE)
            else:
                process.stdin.close()
        while selector.get_map():
            left = ends - time.monotonic()
            if left <= 0:
                return bytes(out), bytes(err), "time"
            for key, _ in selector.select(left):
                if key.fileobj is process.stdin:
                    try:
                        pending = pending[os.write(key.fd, pending[: 1 << 16]) :]
                    except BrokenPipeError:
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(key.fileobj)
                        process.stdin.close()
                    continue
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
                if len(out) > max_output or len(err) > 1 << 16:
                    return bytes(out), bytes(err), "size"
    try:
        process.wait(max(0.0, ends - time.monotonic()))
    except subprocess.TimeoutExpired:
        return bytes(out), bytes(err), "time"
    return bytes(out), bytes(err), None


def is_shallow(root: Path, deadline: _Deadline | None = None) -> bool:
    """Whether `root` is in a shallow clone (git 2.15 answers true/false; older git echoes the option, so the
    `shallow` file that marks such a clone is looked for instead)."""
    answer = git(root, "rev-parse", "--is-shallow-repository", "--git-path", "shallow", deadline=deadline).decode("utf-8", "replace").split("\n")
    if answer[0] in ("true", "false"):
        return answer[0] == "true"
    shallow_file = Path(answer[1] if len(answer) > 1 and answer[1] else ".git/shallow")
    return (shallow_file if shallow_file.is_absolute() else root / shallow_file).exists()
