"""`python -m ops history STACK`: every release Pulumi.STACK.yaml has held, read from git.

A release is `coditect:release` (the version and the image of every container). The history walks
the commits that touched the stack file, newest first, and reads each revision through the one
bounded stack-file reader; consecutive commits holding the same release are one entry, dated by the
commit that brought it in. The entry equal to the file as it is now is marked current. Only git's
plumbing is used (one `git log`, one `git cat-file --batch`), so a long history costs two processes.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from gke.manifest import is_digest_pinned
from ops import stack_files
from ops.errors import UsageError, clip
from ops.program import ROOT, stack_path
from ops.promote import RELEASE_KEY
from ops.stack_diff import Refused

GIT_TIMEOUT_S = 30.0
_FIELD = "\x1f"  # between git log fields: a byte no name, date or hash holds


@dataclass(frozen=True)
class Release:
    """One release the stack file held, and the commit that brought it in."""

    version: str
    images: dict[str, str]
    commit: str
    date: str  # the commit's author date, ISO 8601
    author: str
    subject: str
    current: bool = False

    @property
    def pinned(self) -> bool:
        return bool(self.images) and all(is_digest_pinned(image) for image in self.images.values())

    @property
    def tree(self) -> dict[str, Any]:
        """The release as the stack file holds it under coditect:release."""
        return {"version": self.version, "images": dict(self.images)}


@dataclass(frozen=True)
class Skipped:
    """A revision of the stack file that holds no readable release."""

    commit: str
    reason: str


@dataclass
class History:
    stack: str
    releases: list[Release] = field(default_factory=list)  # newest first
    skipped: list[Skipped] = field(default_factory=list)
    uncommitted: Release | None = None  # the file now holds a release no commit has

    @property
    def current(self) -> Release | None:
        return next((release for release in self.releases if release.current), None)


def git(root: Path, *arguments: str, stdin: bytes | None = None) -> bytes:
    """git's output in `root`, or Refused saying why git could not answer."""
    try:
        done = subprocess.run(["git", "-C", str(root), *arguments], input=stdin, capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise Refused("git is not installed: the release history is read from git. Fix: install git") from None
    except subprocess.TimeoutExpired:
        raise Refused(f"git {arguments[0]} did not answer within {GIT_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise Refused(f"git {arguments[0]} failed in {clip(str(root), 200)}: {clip(message[-1] if message else 'no message', 300)}")
    return done.stdout


def release_of(data: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """(version, images) of a stack file's values, or None when it holds no well-formed release."""
    config = data.get("config")
    release = config.get(RELEASE_KEY) if isinstance(config, dict) else None
    if not isinstance(release, dict):
        return None
    version, images = release.get("version"), release.get("images")
    if not isinstance(version, str) or not isinstance(images, dict) or not all(isinstance(v, str) for v in images.values()):
        return None
    return version, {str(role): image for role, image in images.items()}


def _commits(root: Path, file_name: str) -> list[tuple[str, str, str, str]]:
    """(hash, ISO date, author, subject) of every commit that changed the file, newest first."""
    out = git(root, "log", f"--format=%H{_FIELD}%aI{_FIELD}%an <%ae>{_FIELD}%s", "--", file_name).decode("utf-8", "replace")
    commits = []
    for line in out.splitlines():
        parts = line.split(_FIELD)
        if len(parts) == 4:
            commits.append((parts[0], parts[1], parts[2], parts[3]))
    return commits


def _revisions(root: Path, file_name: str, hashes: list[str]) -> list[bytes | str]:
    """The file's bytes at each commit (one `git cat-file --batch`), or why there are none."""
    if not hashes:
        return []
    out = git(root, "cat-file", "--batch", stdin="".join(f"{commit}:./{file_name}\n" for commit in hashes).encode())
    revisions: list[bytes | str] = []
    position = 0
    for _ in hashes:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        position = header_end + 1
        if len(header) != 3 or header[1] != b"blob":  # `<object> missing`: the commit deleted the file
            revisions.append("the file does not exist in this commit")
            continue
        size = int(header[2])
        revisions.append(out[position:position + size] if size <= stack_files.MAX_BYTES else f"larger than {stack_files.MAX_BYTES} bytes")
        position += size + 1
    return revisions


def _read_release(revision: bytes | str, name: str) -> tuple[str, dict[str, str]] | str:
    """The release a revision holds, or why it holds none."""
    if isinstance(revision, str):
        return revision
    try:
        release = release_of(stack_files.parse(stack_files.decode(revision, name), name))
    except UsageError as error:
        return clip(str(error), 300)
    return release if release is not None else f"no {RELEASE_KEY} with a version and images"


def read_history(stack: str, root: Path = ROOT) -> History:
    """The stack file's releases from git, newest first, the current one marked; Refused without git history."""
    path = stack_path(stack, root)  # StackFileError (exit 2) for a bad or unknown stack
    commits = _commits(root, path.name)
    if not commits:
        raise Refused(f"{path.name} has no git history (never committed, or {clip(str(root), 200)} is not in a git repository). "
                      "Fix: commit the stack file; every later release is then read from its history")
    history = History(stack)
    entries: list[tuple[tuple[str, dict[str, str]], tuple[str, str, str, str]]] = []
    for logged, revision in zip(commits, _revisions(root, path.name, [c[0] for c in commits]), strict=True):
        release = _read_release(revision, path.name)
        if isinstance(release, str):
            history.skipped.append(Skipped(logged[0], release))
        elif entries and entries[-1][0] == release:
            entries[-1] = (release, logged)  # an older commit with the same release: it brought the release in
        else:
            entries.append((release, logged))
    now = release_of(stack_files.read(path))
    for (version, images), (commit, date, author, subject) in entries:
        is_current = (version, images) == now and not any(release.current for release in history.releases)
        history.releases.append(Release(version, images, commit, date, author, subject, current=is_current))
    if now is not None and history.current is None:
        history.uncommitted = Release(now[0], now[1], "", "", "", "(uncommitted)", current=True)
    return history


def print_history(history: History, out: TextIO) -> None:
    out.write(f"Releases of Pulumi.{history.stack}.yaml, newest first:\n")
    if history.uncommitted is not None:
        out.write(f"* {history.uncommitted.version}  (uncommitted: the stack file holds a release no commit has)\n")
    for release in history.releases:
        mark = "*" if release.current else " "
        pinned = "" if release.pinned else "  (not pinned by digest: cannot be rolled back to)"
        out.write(f"{mark} {release.version}  {release.commit[:12]}  {release.date}  {release.author}  {clip(release.subject, 100)}{pinned}\n")
        for role, image in sorted(release.images.items()):
            out.write(f"      {role}: {image}\n")
    for skipped in history.skipped:
        out.write(f"  (commit {skipped.commit[:12]} skipped: {skipped.reason})\n")
    out.write("* = what the stack file holds now. Roll back with `python -m ops rollback "
              f"{history.stack} [--to VERSION] --dry-run`.\n")


def history_json(history: History) -> str:
    return json.dumps({
        "stack": history.stack,
        "releases": [{**asdict(release), "pinned": release.pinned} for release in history.releases],
        "uncommitted": asdict(history.uncommitted) if history.uncommitted else None,
        "skipped": [asdict(skipped) for skipped in history.skipped],
    }, indent=2)


def history(stack: str, out: TextIO, as_json: bool = False, root: Path = ROOT) -> int:
    """The `history` command: 0 with the list, 1 when git cannot tell it."""
    try:
        found = read_history(stack, root)
    except Refused as refusal:
        out.write(f"refused: {refusal}\n")
        return 1
    if as_json:
        out.write(history_json(found) + "\n")
    else:
        print_history(found, out)
    return 0
