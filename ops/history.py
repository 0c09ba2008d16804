"""`python -m ops history STACK`: every release Pulumi.STACK.yaml has held, read from git.

A release is `coditect:release` (the version and the image of every container). The history walks
the commits that touched the stack file, newest first, and reads each revision through the one
bounded stack-file reader; consecutive commits holding the same release are one entry, dated by the
commit that brought it in. The entry equal to the file as it is now is marked current. Only git's
plumbing is used (one `git log`, one `git cat-file --batch`), so a long history costs two processes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from coditect.gke.manifest import is_digest_pinned
from ops import stack_files
from ops.bounded_git import GIT_MAX_OUTPUT as GIT_MAX_OUTPUT
from ops.bounded_git import GIT_TIMEOUT_S as GIT_TIMEOUT_S
from ops.bounded_git import HISTORY_DEADLINE_S as HISTORY_DEADLINE_S
from ops.bounded_git import _Deadline, git, is_shallow
from ops.errors import EXIT_OK, Refused, UsageError, clip
from ops.program import ROOT, stack_path
from ops.release import RELEASE_KEY, current_release

# Bounds on what reading the history may cost (README, "Bounds"): a history longer than MAX_COMMITS is
# read from its newest commits and says so; each git call gets GIT_TIMEOUT_S, the whole reading
# HISTORY_DEADLINE_S; git's answer is cut at GIT_MAX_OUTPUT bytes (ops/bounded_git.py); a revision of the stack file larger than
# stack_files.MAX_BYTES is never read (its size is asked first), and the revisions read at once hold at most
# BATCH_BYTES, so a 400 MB blob in an old commit costs one `cat-file --batch-check` line.
MAX_COMMITS = 1000
BATCH_BYTES = 8 << 20
MAX_SUBJECT = 1000  # characters kept of a subject or an author: what is printed is clipped further
_HASH = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256 object names
UNSHALLOW_FIX = "git fetch --unshallow (in GitHub Actions: actions/checkout with fetch-depth: 0)"


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
    shallow: bool = False  # a shallow clone: the commits before its boundary are not there to read
    cut_at: int | None = None  # only the newest `cut_at` commits were read (MAX_COMMITS)

    @property
    def cut(self) -> str | None:
        """Why releases older than the oldest listed may exist but are not listed, with the fix; None when complete."""
        reasons = []
        if self.shallow:
            reasons.append(f"this is a shallow clone, so the history of Pulumi.{self.stack}.yaml is cut at its oldest fetched commit. Fix: {UNSHALLOW_FIX}")
        if self.cut_at is not None:
            reasons.append(
                f"only the newest {self.cut_at} commits that changed Pulumi.{self.stack}.yaml were read (the bound); "
                "an older release is restored from its commit by hand (git show COMMIT:Pulumi.STACK.yaml)"
            )
        return "; ".join(reasons) or None

    @property
    def current(self) -> Release | None:
        return next((release for release in self.releases if release.current), None)


def release_of(data: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """(version, images) of a stack file's values, or None when it holds no well-formed release."""
    release = current_release(data)
    if not isinstance(release, dict):
        return None
    version, images = release.get("version"), release.get("images")
    if not isinstance(version, str) or not isinstance(images, dict) or not all(isinstance(v, str) for v in images.values()):
        return None
    return version, {str(role): image for role, image in images.items()}


@dataclass(frozen=True)
class Logged:
    """One commit that changed the stack file, as `git log` tells it."""

    commit: str
    date: str
    author: str
    subject: str


def _text(field: bytes) -> str:
    """A field git copied from a commit (an author, a subject): text whatever its bytes, and bounded."""
    return clip(field.decode("utf-8", "replace"), MAX_SUBJECT)


def _commits(root: Path, file_name: str, deadline: _Deadline | None = None) -> list[Logged]:
    """Every commit that changed the file, newest first, at most MAX_COMMITS + 1 of them. Fields and commits are
    NUL-separated (`-z`, `%x00`): a subject holds no NUL (git refuses one in a message), so any subject parses."""
    out = git(root, "log", "-z", f"--max-count={MAX_COMMITS + 1}", "--format=%H%x00%aI%x00%an <%ae>%x00%s", "--", file_name, deadline=deadline)
    fields = out.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    if len(fields) % 4:
        raise Refused(
            f"git log's answer for {file_name} has {len(fields)} fields, not 4 per commit; nothing was read. Fix: check the repository with `git fsck`"
        )
    commits = []
    for at in range(0, len(fields), 4):
        commit, date, author, subject = fields[at : at + 4]
        if not _HASH.fullmatch(commit):
            raise Refused(
                f"git log named commit {clip(repr(commit), 80)}, which is not an object name; nothing was read. Fix: check the repository with `git fsck`"
            )
        commits.append(Logged(commit.decode(), _text(date), _text(author), _text(subject)))
    return commits


Revision = bytes | str  # the file's bytes at a commit, or why they were not read


def _sizes(root: Path, objects: list[str], deadline: _Deadline | None) -> list[tuple[str, int] | None]:
    """(object name, size) of each blob `<commit>:./<file>`, or None where the commit has no such file."""
    out = git(root, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)", stdin="".join(f"{o}\n" for o in objects).encode(), deadline=deadline)
    lines = out.split(b"\n")
    found: list[tuple[str, int] | None] = []
    for line in lines[: len(objects)]:
        parts = line.split()
        found.append((parts[0].decode(), int(parts[2])) if len(parts) == 3 and parts[1] == b"blob" and parts[2].isdigit() else None)
    if len(found) != len(objects):
        raise Refused(f"git cat-file answered for {len(found)} of {len(objects)} revisions; nothing was read")
    return found


def _blobs(root: Path, names: list[str], deadline: _Deadline | None) -> dict[str, bytes]:
    """The content of each blob (each known to be at most stack_files.MAX_BYTES), read BATCH_BYTES at a time at most."""
    contents: dict[str, bytes] = {}
    out = git(
        root,
        "cat-file",
        "--batch",
        stdin="".join(f"{name}\n" for name in names).encode(),
        deadline=deadline,
        max_output=BATCH_BYTES + len(names) * 100 + stack_files.MAX_BYTES,
    )
    position = 0
    for name in names:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        position = header_end + 1
        size = int(header[2]) if len(header) == 3 and header[2].isdigit() else 0
        contents[name] = out[position : position + size]
        position += size + 1
    return contents


def _revisions(root: Path, file_name: str, hashes: list[str], deadline: _Deadline | None = None) -> list[Revision]:
    """The file's bytes at each commit, or why they were not read: missing there, or larger than the reader's bound
    (its size is asked first, so such a revision is never read). Each distinct blob is read once."""
    if not hashes:
        return []
    sizes = _sizes(root, [f"{commit}:./{file_name}" for commit in hashes], deadline)
    wanted = list(dict.fromkeys(found[0] for found in sizes if found is not None and found[1] <= stack_files.MAX_BYTES))
    contents: dict[str, bytes] = {}
    batch: list[str] = []
    batch_bytes = 0
    by_name = {found[0]: found[1] for found in sizes if found is not None}
    for name in wanted:
        if batch and batch_bytes + by_name[name] > BATCH_BYTES:
            contents |= _blobs(root, batch, deadline)
            batch, batch_bytes = [], 0
        batch.append(name)
        batch_bytes += by_name[name]
    if batch:
        contents |= _blobs(root, batch, deadline)
    revisions: list[Revision] = []
    for found in sizes:
        if found is None:
            revisions.append("the file does not exist in this commit")
        elif found[1] > stack_files.MAX_BYTES:
            revisions.append(f"the file is {found[1]} bytes in this commit, over the {stack_files.MAX_BYTES}-byte bound of a stack file; not read")
        else:
            revisions.append(contents[found[0]])
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
    deadline = _Deadline()
    commits = _commits(root, path.name, deadline)
    shallow = is_shallow(root, deadline)
    if not commits:
        raise Refused(
            f"{path.name} has no git history (never committed, or {clip(str(root), 200)} is not in a git repository). "
            "Fix: commit the stack file; every later release is then read from its history"
        )
    history = History(stack, shallow=shallow)
    if len(commits) > MAX_COMMITS:
        commits, history.cut_at = commits[:MAX_COMMITS], MAX_COMMITS
    entries: list[tuple[tuple[str, dict[str, str]], Logged]] = []
    for logged, revision in zip(commits, _revisions(root, path.name, [c.commit for c in commits], deadline), strict=True):
        release = _read_release(revision, path.name)
        if isinstance(release, str):
            history.skipped.append(Skipped(logged.commit, release))
        elif entries and entries[-1][0] == release:
            entries[-1] = (release, logged)  # an older commit with the same release: it brought the release in
        else:
            entries.append((release, logged))
    now = release_of(stack_files.read(path))
    for (version, images), logged in entries:
        is_current = (version, images) == now and not any(release.current for release in history.releases)
        history.releases.append(Release(version, images, logged.commit, logged.date, logged.author, logged.subject, current=is_current))
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
    if history.cut:
        out.write(f"Older releases are not listed: {history.cut}\n")
    out.write(f"* = what the stack file holds now. Roll back with `python -m ops rollback {history.stack} [--to VERSION] --dry-run`.\n")


def history_json(history: History) -> str:
    return json.dumps(
        {
            "stack": history.stack,
            "releases": [{**asdict(release), "pinned": release.pinned} for release in history.releases],
            "uncommitted": asdict(history.uncommitted) if history.uncommitted else None,
            "skipped": [asdict(skipped) for skipped in history.skipped],
            "shallow": history.shallow,
            "cut_at": history.cut_at,
            "cut": history.cut,
        },
        indent=2,
    )


def history(stack: str, out: TextIO, as_json: bool = False, root: Path = ROOT) -> int:
    """The `history` command: EXIT_OK with the list, or Refused when git cannot tell it (the error boundary writes it on
    stderr, EXIT_FAILED): `out` then holds nothing, so --json output is JSON or empty."""
    found = read_history(stack, root)
    if as_json:
        out.write(history_json(found) + "\n")
    else:
        print_history(found, out)
    return EXIT_OK
