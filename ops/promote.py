"""`python -m ops promote FROM TO`: releases move, nothing else does.

A release is `coditect:release` (the app version and the image digest of every container). Promote
copies it from Pulumi.FROM.yaml into Pulumi.TO.yaml, keeping that file's comments, key order and
formatting, renders the target before and after, shows both diffs, and writes the stack file and
the target's golden render. It never deploys: the change goes through review and `pulumi preview/up`.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from gke.manifest import is_digest_pinned
from ops import stack_files
from ops.atomic import locked, write_files
from ops.check import check_stack
from ops.errors import StackFileError, UsageError, clip
from ops.program import ROOT, is_stack_name
from ops.render import DEFAULT_OUT, rendered_files
from ops.stack_diff import Refused, flatten, require_stacks
from ops.stack_files import StackDocument
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
    old_stack_text: str | None = None  # the stack file as read: the write is refused if it holds anything else by then


def _round_trip_yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


Leaves = dict[tuple[str | int, ...], Any]


def _leaves(tree: Any, prefix: tuple[str | int, ...] = ()) -> Leaves:
    """Every leaf of a tree by its path (mapping keys and list indexes)."""
    if isinstance(tree, dict):
        children: list[tuple[str | int, Any]] = list(tree.items())
    elif isinstance(tree, list):
        children = list(enumerate(tree))
    else:
        return {prefix: tree}
    leaves: Leaves = {}
    for key, value in children:
        leaves.update(_leaves(value, (*prefix, key)))
    return leaves


def _merged(target: Any, source: Any) -> Any:
    """`target` with every leaf of `source` set in it (a new tree; neither argument changes)."""
    if isinstance(source, dict) and isinstance(target, dict):
        return {**target, **{key: _merged(target.get(key), value) for key, value in source.items()}}
    return copy.deepcopy(source)


def _scalar_text(value: Any, style: str | None) -> str:
    """`value` as YAML scalar text: in the style the replaced scalar had when that reads back as
    `value`, else double-quoted (which always does)."""
    if not isinstance(value, str):
        return json.dumps(value)  # a finite number, a boolean or null: the reader refused anything else
    same_style = {None: value, "'": "'" + value.replace("'", "''") + "'"}.get(style)
    if same_style is not None and "\n" not in same_style:
        try:
            if stack_files.parse(f"k: {same_style}\n", "value") == {"k": value}:
                return same_style
        except UsageError:
            pass
    return _double_quoted(value)


# Characters a YAML double-quoted scalar cannot hold as they are: quotes, escapes, line breaks
# (which it would fold) and what YAML does not print.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}
_PRINTABLE = re.compile("[\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _double_quoted(value: str) -> str:
    def escaped(char: str) -> str:
        if char in _ESCAPES:
            return _ESCAPES[char]
        if _PRINTABLE.fullmatch(char) and char != "\ufeff":
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return '"' + "".join(escaped(char) for char in value) + '"'


def _spliced(document: StackDocument, release: dict[str, Any]) -> str | None:
    """The stack file with only the text of the release's changed scalars replaced (every other byte,
    CRLF line ends and layout included, kept), or None when a changed leaf is not a scalar there."""
    config = document.data.get("config")
    current = config.get(RELEASE_KEY) if isinstance(config, dict) else None
    if not isinstance(current, dict):
        return None
    before, after = _leaves(current), _leaves(_merged(current, release))
    edits = []
    for path, value in after.items():
        if path in before and before[path] == value and type(before[path]) is type(value):
            continue
        span = document.spans.get(("config", RELEASE_KEY, *path))
        if path not in before or span is None:
            return None
        edits.append((span, _scalar_text(value, span.style)))
    text = document.text
    for span, replacement in sorted(edits, key=lambda edit: edit[0].start, reverse=True):
        text = text[:span.start] + replacement + text[span.end:]
    return text


def _round_tripped(document: StackDocument, release: dict[str, Any]) -> str:
    """The whole stack file through ruamel's round trip, for a release whose shape the target lacks;
    the file's line ends are kept."""
    crlf = "\r\n" in document.text
    loaded = _round_trip_yaml().load(document.text.replace("\r\n", "\n") if crlf else document.text)
    if loaded is None:  # an empty file
        loaded = CommentedMap()
    if loaded.get("config") is None:
        loaded["config"] = CommentedMap()
    config = loaded["config"]
    if isinstance(config.get(RELEASE_KEY), dict):
        _merge_into(config[RELEASE_KEY], release)
    else:
        config[RELEASE_KEY] = copy.deepcopy(release)
    out = io.StringIO()
    _round_trip_yaml().dump(loaded, out)
    return out.getvalue().replace("\n", "\r\n") if crlf else out.getvalue()


def _with_release(document: StackDocument, release: dict[str, Any]) -> str:
    """The target stack file's new text, proven to differ from the old one in the release only."""
    found = document.data.get("config")
    if found is not None and not isinstance(found, dict):
        raise StackFileError(f"{document.name}: 'config' must be a mapping of keys to values, found {type(found).__name__}")
    config: dict[str, Any] = found or {}
    expected = {**document.data, "config": {**config, RELEASE_KEY: _merged(config.get(RELEASE_KEY), release)}}
    for edit in (_spliced, _round_tripped):
        text = edit(document, release)
        if text is not None and stack_files.parse(text, document.name) == expected:
            return text
    raise Refused(f"{document.name} cannot be edited without changing more than {RELEASE_KEY}; nothing was changed. "
                  f"Fix: set {RELEASE_KEY} by hand in a reviewed change")


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


def _promotable_release(source: str, source_document: StackDocument, target: str, root: Path) -> dict[str, Any]:
    """The source's release, refused unless it is pinned by digest and the source renders cleanly."""
    config = source_document.data.get("config")
    release = config.get(RELEASE_KEY) if isinstance(config, dict) else None
    if not isinstance(release, dict):
        raise Refused(f"Pulumi.{source}.yaml has no {RELEASE_KEY} mapping to promote")
    images = release.get("images") or {}
    if not isinstance(images, dict) or not all(isinstance(image, str) for image in images.values()):
        raise Refused(f"Pulumi.{source}.yaml: {RELEASE_KEY}.images must map each container to an image reference")
    unpinned = {role: clip(image, 200) for role, image in images.items() if not is_digest_pinned(image)}
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
    # Both files through the one bounded reader first: whatever it refuses stops here, before any render or write.
    source_document = stack_files.read_document(root / f"Pulumi.{source}.yaml")
    target_document = stack_files.read_document(root / f"Pulumi.{target}.yaml")
    release = _promotable_release(source, source_document, target, root)

    before_text = target_document.text
    target_config = target_document.data.get("config")
    current = target_config.get(RELEASE_KEY) if isinstance(target_config, dict) else None
    after_text = _with_release(target_document, release)
    before_leaves = flatten(current if isinstance(current, dict) else {})
    changes = [ReleaseChange(path, before_leaves.get(path), value)
               for path, value in flatten(_merged(current, release)).items() if before_leaves.get(path) != value]

    before_report = check_stack(target, root)
    after_report = check_stack(target, root, stack_text=after_text)
    if not after_report.ok:
        raise Refused(f"{target} does not render cleanly with {source}'s release; nothing was changed:", after_report.problems())
    before_rendered = rendered_files(before_report) if before_report.run is not None else {}
    new_rendered = rendered_files(after_report)
    render_diffs = {name: render_diff for name, text in new_rendered.items()
                    if (render_diff := _before_after_diff(before_rendered.get(name, ""), text, f"rendered/{target}/{name}"))}
    return Promotion(source, target, changes, _before_after_diff(before_text, after_text, f"Pulumi.{target}.yaml"),
                     render_diffs, after_text, new_rendered, before_text)


def _before_after_diff(before: str, after: str, label: str) -> str:
    return unified_diff(before, after, f"{label} (before)", f"{label} (after)")


def _write(promotion: Promotion, root: Path) -> None:
    """The stack file and its golden render, all together or none (WriteError before any changed)."""
    golden = root / DEFAULT_OUT.name / promotion.target
    stack_file = root / f"Pulumi.{promotion.target}.yaml"
    write_files({stack_file: promotion.new_stack_text, **{golden / name: text for name, text in promotion.new_rendered.items()}},
                unchanged={stack_file: promotion.old_stack_text} if promotion.old_stack_text is not None else None)


def writing(root: Path, stack: str, dry_run: bool) -> contextlib.AbstractContextManager[None]:
    """The stack file's writers' lock, unless nothing will be written (or there is no such stack file: the plan
    then refuses it with the reason)."""
    stack_file = root / f"Pulumi.{stack}.yaml"
    if dry_run or not is_stack_name(stack) or not stack_file.exists():
        return contextlib.nullcontext()
    return locked(stack_file)


def show_and_write(promotion: Promotion, heading: str, out: TextIO, dry_run: bool, root: Path) -> bool:
    """Print a release change and its diffs, then write it all or nothing unless `dry_run`; True when written.
    Shared by promote and rollback."""
    out.write(f"{heading}:\n")
    for change in promotion.changes:
        out.write(f"  {change}\n")
    out.write(f"\n{promotion.stack_file_diff}\n")
    for render_diff in promotion.render_diffs.values():
        out.write(f"{render_diff}\n")
    if dry_run:
        out.write("--dry-run: nothing written.\n")
        return False
    _write(promotion, root)
    return True


def promote(source: str, target: str, out: TextIO, dry_run: bool = False, skip_stage: bool = False, root: Path = ROOT) -> int:
    """The `promote` command: 1 when refused, else 0 (with `dry_run`, after printing what it would write). The target's
    lock is held from its read to its write, so a concurrent promote or rollback of it is refused (exit 3)."""
    with writing(root, target, dry_run):
        try:
            promotion = plan(source, target, skip_stage, root)
        except Refused as refusal:
            out.write(f"refused: {refusal}\n")
            return 1
        if not promotion.changes:
            out.write(f"{target} already runs {source}'s release; nothing to do.\n")
            return 0
        if not show_and_write(promotion, f"Promote {source} -> {target}", out, dry_run, root):
            return 0
    out.write(f"Wrote Pulumi.{target}.yaml and rendered/{target}/. Nothing was deployed: open a pull request; CI runs "
              f"`pulumi preview --policy-pack policy` on {target}; after review, `pulumi up -s {target}`, then `python -m ops verify`.\n")
    return 0
