"""`python -m ops rollback STACK [--to VERSION]`: a release the stack file held before, written back.

It is a promotion whose source is the stack file's own git history: the same edit of the release's
scalars only (comments and layout kept, proven by reading the result back), the same render before
and after, the same diffs, and the same all-or-nothing write of the stack file and its golden render.
It never deploys, and it never uses `kubectl rollout undo`: that would change the cluster behind the
stack's back, so the next `pulumi up` would silently undo the rollback (the state and the stack file
still say the newer release). A configuration change (anything but the release) is rolled back with
`git revert` of its commit, then `pulumi up`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from coditect.gke.manifest import is_digest_pinned
from ops import stack_files
from ops.errors import EXIT_OK, Refused
from ops.history import History, Release, git, read_history
from ops.program import ROOT, stack_path
from ops.release import ReleaseEdit, edit_plan, show_and_write, writing
from ops.stack_check import settings_for


def _refuse_dirty(stack: str, root: Path) -> None:
    name = stack_path(stack, root).name
    if git(root, "status", "--porcelain", "--", name).strip():
        raise Refused(
            f"{name} has uncommitted changes: a rollback starts from a committed release, so that what it replaces "
            f"stays in the history. Fix: commit or discard them (git diff -- {name}), then roll back"
        )


def _described(release: Release) -> str:
    return f"{release.version} ({release.commit[:12]}, {release.date})"


def choose(found: History, to: str | None) -> Release:
    """The release to go back to: `to` (a version, or a commit the history names), else the one before the current."""
    current = found.current
    if to is None:
        if current is None:
            raise Refused(
                f"Pulumi.{found.stack}.yaml holds a release no commit has: say which one to go back to with --to VERSION (python -m ops history {found.stack})"
            )
        older = found.releases[found.releases.index(current) + 1 :]
        if not older and found.cut:
            raise Refused(
                f"{_described(current)} is the oldest release of Pulumi.{found.stack}.yaml in the history read here, "
                f"and that history is incomplete: {found.cut}"
            )
        if not older:
            raise Refused(f"{_described(current)} is the oldest release Pulumi.{found.stack}.yaml has held: there is none before it")
        return older[0]
    matches = [release for release in found.releases if release.version == to]
    if not matches and len(to) >= 7:
        matches = [release for release in found.releases if release.commit.startswith(to.lower())]
        skipped = [skip for skip in found.skipped if skip.commit.startswith(to.lower())]
        if not matches and skipped:
            raise Refused(f"commit {skipped[0].commit[:12]} holds no release to go back to: {skipped[0].reason}")
    if not matches:
        held = ", ".join(dict.fromkeys(release.version for release in found.releases)) or "none"
        if found.cut:  # the release may well be in the commits that were not read: never say "never held"
            raise Refused(
                f"release {to!r} is not in the part of Pulumi.{found.stack}.yaml's history read here (releases, newest first: "
                f"{held}), and that history is incomplete: {found.cut}"
            )
        raise Refused(f"Pulumi.{found.stack}.yaml has never held release {to!r} (its releases, newest first: {held}); see python -m ops history {found.stack}")
    distinct = {tuple(sorted(release.images.items())) for release in matches}
    if len(distinct) > 1:
        listed = ", ".join(_described(release) for release in matches)
        raise Refused(f"release {to} was held with different images ({listed}); pass --to with the commit of the one you want")
    return matches[0]


def _refuse_unpinned(release: Release) -> None:
    if not release.pinned:
        unpinned = ", ".join(f"{role}={image}" for role, image in sorted(release.images.items()) if not is_digest_pinned(image)) or "no images"
        raise Refused(
            f"release {_described(release)} is not pinned by digest ({unpinned}); a rollback restores exactly what ran, "
            "so only repository@sha256:<digest> images are rolled back to"
        )


def plan(stack: str, to: str | None = None, root: Path = ROOT) -> tuple[Release, ReleaseEdit]:
    """(the release rolled back to, what writing it would change), or Refused; writes nothing."""
    stack_path(stack, root)  # StackFileError (exit 2) for a bad or unknown stack, before git is asked
    _refuse_dirty(stack, root)
    found = read_history(stack, root)
    release = choose(found, to)
    _refuse_unpinned(release)
    document = stack_files.read_document(stack_path(stack, root))
    edit = edit_plan(f"{release.version}@{release.commit[:12]}", stack, document, release.tree, f"release {_described(release)}", root)
    return release, edit


def verify_url(stack: str, root: Path) -> str:
    """The Socket.IO endpoint `ops verify` proves for the stack (its first host)."""
    _, _, settings = settings_for(stack, root)
    scheme = "https" if settings.gcp.tls.enabled else "http"
    return f"{scheme}://{settings.hosts[0]}{settings.socketio.path}"


def rollback(stack: str, out: TextIO, to: str | None = None, dry_run: bool = False, root: Path = ROOT) -> int:
    """The `rollback` command: EXIT_OK (with `dry_run`, after printing what it would write), or Refused, which the error
    boundary writes on stderr (EXIT_FAILED): `out` then holds nothing.
    The stack file's lock is held from its read to its write, so a concurrent promote or rollback of it is refused (EXIT_WRITE)."""
    with writing(root, stack, dry_run):
        release, promotion = plan(stack, to, root)
        if not promotion.changes:
            out.write(f"Pulumi.{stack}.yaml already holds release {_described(release)}; nothing to do.\n")
            return EXIT_OK
        if not show_and_write(promotion, f"Roll {stack} back to {_described(release)}", out, dry_run, root):
            return EXIT_OK
    out.write(
        f"Wrote Pulumi.{stack}.yaml and rendered/{stack}/. Nothing was deployed. Next:\n"
        f"  git commit -m 'Roll {stack} back to {release.version}' -- Pulumi.{stack}.yaml rendered/{stack}\n"
        f"  pulumi up -s {stack}\n"
        f"  python -m ops inspect {stack} --wait 900\n"
        f"  python -m ops verify {verify_url(stack, root)} --hold 40\n"
    )
    return EXIT_OK
