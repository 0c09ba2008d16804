"""`python -m ops promote FROM TO`: releases move, nothing else does.

A release is `coditect:release` (the app version and the image digest of every container). Promote
copies it from Pulumi.FROM.yaml into Pulumi.TO.yaml, keeping that file's comments, key order and
formatting, renders the target before and after, shows both diffs, and writes the stack file and
the target's golden render. It never deploys: the change goes through review and `pulumi preview/up`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from coditect.gke.manifest import is_digest_pinned
from ops import stack_files
from ops.errors import EXIT_OK, Refused, UsageError, clip
from ops.program import ROOT
from ops.release import RELEASE_KEY, ReleaseEdit, current_release, edit_plan, show_and_write, writing
from ops.stack_check import check_stack
from ops.stack_diff import require_stacks
from ops.stack_files import StackDocument

PROMOTION_ORDER = ("dev", "staging", "prod")


def _refuse_wrong_direction(source: str, target: str, skip_stage: bool) -> None:
    if source not in PROMOTION_ORDER or target not in PROMOTION_ORDER:
        return
    step = PROMOTION_ORDER.index(target) - PROMOTION_ORDER.index(source)
    if step < 0:
        raise Refused(
            f"promotion goes {' -> '.join(PROMOTION_ORDER)}; {source} -> {target} goes backwards "
            f"(to roll {target} back, promote the release you want from the stack before it, or edit the stack file in a reviewed change)"
        )
    if step > 1 and not skip_stage:
        skipped = ", ".join(PROMOTION_ORDER[PROMOTION_ORDER.index(source) + 1 : PROMOTION_ORDER.index(target)])
        raise Refused(
            f"{source} -> {target} skips {skipped}: a release reaches {target} only after it ran in {skipped}. "
            "Promote step by step, or pass --skip-stage to do it anyway."
        )


def _promotable_release(source: str, source_document: StackDocument, target: str, root: Path) -> dict[str, Any]:
    """The source's release, refused unless it is pinned by digest and the source renders cleanly."""
    release = current_release(source_document.data)
    if not isinstance(release, dict):
        raise Refused(f"Pulumi.{source}.yaml has no {RELEASE_KEY} mapping to promote")
    images = release.get("images") or {}
    if not isinstance(images, dict) or not all(isinstance(image, str) for image in images.values()):
        raise Refused(f"Pulumi.{source}.yaml: {RELEASE_KEY}.images must map each container to an image reference")
    unpinned = {role: clip(image, 200) for role, image in images.items() if not is_digest_pinned(image)}
    if unpinned:
        listed = ", ".join(f"{role}={image}" for role, image in unpinned.items())
        raise Refused(
            f"{source}'s images are not pinned by digest ({listed}); only repository@sha256:<digest> images are "
            f"promoted, so that what ran in {source} is exactly what runs in {target}"
        )
    source_report = check_stack(source, root)
    if not source_report.ok:
        raise Refused(f"the source stack {source} does not render cleanly; fix it before promoting from it:", source_report.problems())
    return release


def plan(source: str, target: str, skip_stage: bool = False, root: Path = ROOT) -> ReleaseEdit:
    """What promoting would change, or Refused; writes nothing."""
    require_stacks((source, target), root)
    if source == target:
        raise UsageError("FROM and TO are the same stack")
    _refuse_wrong_direction(source, target, skip_stage)
    # Both files through the one bounded reader first: whatever it refuses stops here, before any render or write.
    source_document = stack_files.read_document(root / f"Pulumi.{source}.yaml")
    target_document = stack_files.read_document(root / f"Pulumi.{target}.yaml")
    release = _promotable_release(source, source_document, target, root)
    return edit_plan(source, target, target_document, release, f"{source}'s release", root)


def promote(source: str, target: str, out: TextIO, dry_run: bool = False, skip_stage: bool = False, root: Path = ROOT) -> int:
    """The `promote` command: EXIT_OK (with `dry_run`, after printing what it would write), or Refused, which the error
    boundary writes on stderr (EXIT_FAILED): `out` then holds nothing.
    The target's lock is held from its read to its write, so a concurrent promote or rollback of it is refused (EXIT_WRITE)."""
    with writing(root, target, dry_run):
        promotion = plan(source, target, skip_stage, root)
        if not promotion.changes:
            out.write(f"{target} already runs {source}'s release; nothing to do.\n")
            return EXIT_OK
        if not show_and_write(promotion, f"Promote {source} -> {target}", out, dry_run, root):
            return EXIT_OK
    out.write(
        f"Wrote Pulumi.{target}.yaml and rendered/{target}/. Nothing was deployed: open a pull request; CI runs "
        f"`pulumi preview --policy-pack policy` on {target}; after review, `pulumi up -s {target}`, then `python -m ops verify`.\n"
    )
    return EXIT_OK
