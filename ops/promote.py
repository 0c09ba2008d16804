"""`python -m ops promote FROM TO`: releases move, nothing else does.

A release is `coditect:release` (the app version and the image digest of every container). Promote
copies it from Pulumi.FROM.yaml into Pulumi.TO.yaml, keeping that file's comments, key order and
formatting, renders the target before and after, shows both diffs, and writes the stack file and
the target's golden render. It never deploys: the change goes through review and `pulumi preview/up`.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ruamel.yaml import YAML

from gke.manifest import is_digest_pinned
from ops.check import check_stack
from ops.errors import UsageError
from ops.program import ROOT
from ops.render import DEFAULT_OUT, rendered_files
from ops.stack_diff import Refused, flatten, require_stacks
from ops.textdiff import unified_diff

PROMOTION_ORDER = ("dev", "staging", "prod")
RELEASE_KEY = "coditect:release"


@dataclass(frozen=True)
class ReleaseChange:
    path: str  # below coditect:release, e.g. images.nginx
    before: object  # None where the target had no such key
    after: object

    def __str__(self) -> str:
        return f"{RELEASE_KEY}.{self.path}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class Promotion:
    source: str
    target: str
    changes: list[ReleaseChange]
    stack_file_diff: str
    render_diffs: dict[str, str]  # rendered file name -> unified diff, only files that change
    new_stack_text: str
    new_rendered: dict[str, str]  # rendered file name -> text


def _round_trip_yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _dump(document: Any) -> str:
    out = io.StringIO()
    _round_trip_yaml().dump(document, out)
    return out.getvalue()


def _merge_into(target: Any, source: Any) -> None:
    """Set every leaf of `source` in `target`, in place, so target's comments and layout stay."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _refuse_wrong_direction(source: str, target: str, skip_stage: bool) -> None:
    if source not in PROMOTION_ORDER or target not in PROMOTION_ORDER:
        return
    step = PROMOTION_ORDER.index(target) - PROMOTION_ORDER.index(source)
    if step < 0:
        raise Refused(f"promotion goes {' -> '.join(PROMOTION_ORDER)}; {source} -> {target} goes backwards "
                      f"(to roll {target} back, promote the release you want from the stack before it, or edit the stack file in a reviewed change)")
    if step > 1 and not skip_stage:
        skipped = ", ".join(PROMOTION_ORDER[PROMOTION_ORDER.index(source) + 1:PROMOTION_ORDER.index(target)])
        raise Refused(f"{source} -> {target} skips {skipped}: a release reaches {target} only after it ran in {skipped}. "
                      "Promote step by step, or pass --skip-stage to do it anyway.")


def _promotable_release(source: str, target: str, root: Path) -> Any:
    """The source's release, refused unless it is pinned by digest and the source renders cleanly."""
    source_document = _round_trip_yaml().load((root / f"Pulumi.{source}.yaml").read_text())
    release = (source_document.get("config") or {}).get(RELEASE_KEY)
    if not isinstance(release, dict):
        raise Refused(f"Pulumi.{source}.yaml has no {RELEASE_KEY} to promote")
    unpinned = {role: image for role, image in (release.get("images") or {}).items() if not is_digest_pinned(image)}
    if unpinned:
        listed = ", ".join(f"{role}={image}" for role, image in unpinned.items())
        raise Refused(f"{source}'s images are not pinned by digest ({listed}); only repository@sha256:<digest> images are "
                      f"promoted, so that what ran in {source} is exactly what runs in {target}")
    source_report = check_stack(source, root)
    if not source_report.ok:
        raise Refused(f"the source stack {source} does not render cleanly; fix it before promoting from it:", source_report.problems())
    return release


def plan(source: str, target: str, skip_stage: bool = False, root: Path = ROOT) -> Promotion:
    """What promoting would change, or Refused; writes nothing."""
    require_stacks((source, target), root)
    if source == target:
        raise UsageError("FROM and TO are the same stack")
    _refuse_wrong_direction(source, target, skip_stage)
    release = _promotable_release(source, target, root)

    before_text = (root / f"Pulumi.{target}.yaml").read_text()
    target_document = _round_trip_yaml().load(before_text)
    config = target_document.setdefault("config", {})
    before_leaves = flatten(config.get(RELEASE_KEY) or {})
    if isinstance(config.get(RELEASE_KEY), dict):
        _merge_into(config[RELEASE_KEY], release)
    else:
        config[RELEASE_KEY] = copy.deepcopy(release)
    after_text = _dump(target_document)
    changes = [ReleaseChange(path, before_leaves.get(path), value)
               for path, value in flatten(config[RELEASE_KEY]).items() if before_leaves.get(path) != value]

    before_report = check_stack(target, root)
    after_report = check_stack(target, root, stack_text=after_text)
    if not after_report.ok:
        raise Refused(f"{target} does not render cleanly with {source}'s release; nothing was changed:", after_report.problems())
    before_rendered = rendered_files(before_report) if before_report.run is not None else {}
    new_rendered = rendered_files(after_report)
    render_diffs = {name: render_diff for name, text in new_rendered.items()
                    if (render_diff := _before_after_diff(before_rendered.get(name, ""), text, f"rendered/{target}/{name}"))}
    return Promotion(source, target, changes, _before_after_diff(before_text, after_text, f"Pulumi.{target}.yaml"),
                     render_diffs, after_text, new_rendered)


def _before_after_diff(before: str, after: str, label: str) -> str:
    return unified_diff(before, after, f"{label} (before)", f"{label} (after)")


def _write(promotion: Promotion, root: Path) -> None:
    (root / f"Pulumi.{promotion.target}.yaml").write_text(promotion.new_stack_text)
    golden = root / DEFAULT_OUT.name / promotion.target
    golden.mkdir(parents=True, exist_ok=True)
    for name, text in promotion.new_rendered.items():
        (golden / name).write_text(text)


def promote(source: str, target: str, out: TextIO, dry_run: bool = False, skip_stage: bool = False, root: Path = ROOT) -> int:
    """The `promote` command: 1 when refused, else 0 (with `dry_run`, after printing what it would write)."""
    try:
        promotion = plan(source, target, skip_stage, root)
    except Refused as refusal:
        out.write(f"refused: {refusal}\n")
        return 1
    if not promotion.changes:
        out.write(f"{target} already runs {source}'s release; nothing to do.\n")
        return 0
    out.write(f"Promote {source} -> {target}:\n")
    for change in promotion.changes:
        out.write(f"  {change}\n")
    out.write(f"\n{promotion.stack_file_diff}\n")
    for render_diff in promotion.render_diffs.values():
        out.write(f"{render_diff}\n")
    if dry_run:
        out.write("--dry-run: nothing written.\n")
        return 0
    _write(promotion, root)
    out.write(f"Wrote Pulumi.{target}.yaml and rendered/{target}/. Nothing was deployed: open a pull request; CI runs "
              f"`pulumi preview --policy-pack policy` on {target}; after review, `pulumi up -s {target}`, then `python -m ops verify`.\n")
    return 0
