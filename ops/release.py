"""A release (`coditect:release`: the app version and the image of every container) read from a stack
file and spliced into another: the one edit `promote` and `rollback` make.

Only the text of the release's changed scalars is replaced, keeping every other byte of the file
(comments, key order, quoting, CRLF line ends); when the file lacks the release's shape, ruamel's round
trip is used instead. Either way the result is read back and refused unless it differs from the old
file in the release only. The stack is rendered before and after, and the stack file and its golden
render are written all together or not at all, under the stack file's writers' lock.
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

from ops import stack_files
from ops.atomic import locked, write_files
from ops.errors import Refused, StackFileError, UsageError
from ops.program import is_stack_name
from ops.render import DEFAULT_OUT, rendered_files
from ops.stack_check import check_stack
from ops.stack_diff import flatten
from ops.stack_files import StackDocument
from ops.textdiff import unified_diff

RELEASE_KEY = "coditect:release"


def current_release(data: dict[str, Any]) -> Any:
    """What a stack file's values hold under coditect:release (None when there is no such key, or no config mapping)."""
    config = data.get("config")
    return config.get(RELEASE_KEY) if isinstance(config, dict) else None


@dataclass(frozen=True)
class ReleaseChange:
    path: str  # below coditect:release, e.g. images.nginx
    before: object  # None where the target had no such key
    after: object

    def __str__(self) -> str:
        return f"{RELEASE_KEY}.{self.path}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class ReleaseEdit:
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


def merged(target: Any, source: Any) -> Any:
    """`target` with every leaf of `source` set in it (a new tree; neither argument changes)."""
    if isinstance(source, dict) and isinstance(target, dict):
        return {**target, **{key: merged(target.get(key), value) for key, value in source.items()}}
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
    current = current_release(document.data)
    if not isinstance(current, dict):
        return None
    before, after = _leaves(current), _leaves(merged(current, release))
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
        text = text[: span.start] + replacement + text[span.end :]
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


def with_release(document: StackDocument, release: dict[str, Any]) -> str:
    """The target stack file's new text, proven to differ from the old one in the release only."""
    found = document.data.get("config")
    if found is not None and not isinstance(found, dict):
        raise StackFileError(f"{document.name}: 'config' must be a mapping of keys to values, found {type(found).__name__}")
    config: dict[str, Any] = found or {}
    expected = {**document.data, "config": {**config, RELEASE_KEY: merged(config.get(RELEASE_KEY), release)}}
    for splice in (_spliced, _round_tripped):
        text = splice(document, release)
        if text is not None and stack_files.parse(text, document.name) == expected:
            return text
    raise Refused(
        f"{document.name} cannot be edited without changing more than {RELEASE_KEY}; nothing was changed. Fix: set {RELEASE_KEY} by hand in a reviewed change"
    )


def _merge_into(target: Any, source: Any) -> None:
    """Set every leaf of `source` in `target`, in place, so target's comments and layout stay."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def edit_plan(source: str, stack: str, document: StackDocument, release: dict[str, Any], with_what: str, root: Path) -> ReleaseEdit:
    """What writing `release` into the stack's file (`document`) would change: the release's leaves, the
    stack file's diff and the rendered diffs; Refused when the stack does not render cleanly `with_what`
    (e.g. "staging's release"). Writes nothing."""
    current = current_release(document.data)
    after_text = with_release(document, release)
    before_leaves = flatten(current if isinstance(current, dict) else {})
    changes = [
        ReleaseChange(path, before_leaves.get(path), value) for path, value in flatten(merged(current, release)).items() if before_leaves.get(path) != value
    ]
    before_report = check_stack(stack, root)
    after_report = check_stack(stack, root, stack_text=after_text)
    if not after_report.ok:
        raise Refused(f"{stack} does not render cleanly with {with_what}; nothing was changed:", after_report.problems())
    before_rendered = rendered_files(before_report) if before_report.run is not None else {}
    new_rendered = rendered_files(after_report)
    render_diffs = {
        name: render_diff
        for name, text in new_rendered.items()
        if (render_diff := before_after_diff(before_rendered.get(name, ""), text, f"rendered/{stack}/{name}"))
    }
    return ReleaseEdit(
        source, stack, changes, before_after_diff(document.text, after_text, f"Pulumi.{stack}.yaml"), render_diffs, after_text, new_rendered, document.text
    )


def before_after_diff(before: str, after: str, label: str) -> str:
    return unified_diff(before, after, f"{label} (before)", f"{label} (after)")


def _write(edit: ReleaseEdit, root: Path) -> None:
    """The stack file and its golden render, all together or none (WriteError before any changed)."""
    golden = root / DEFAULT_OUT.name / edit.target
    stack_file = root / f"Pulumi.{edit.target}.yaml"
    write_files(
        {stack_file: edit.new_stack_text, **{golden / name: text for name, text in edit.new_rendered.items()}},
        unchanged={stack_file: edit.old_stack_text} if edit.old_stack_text is not None else None,
    )


def writing(root: Path, stack: str, dry_run: bool) -> contextlib.AbstractContextManager[None]:
    """The stack file's writers' lock, unless nothing will be written (or there is no such stack file: the plan
    then refuses it with the reason)."""
    stack_file = root / f"Pulumi.{stack}.yaml"
    if dry_run or not is_stack_name(stack) or not stack_file.exists():
        return contextlib.nullcontext()
    return locked(stack_file)


def show_and_write(edit: ReleaseEdit, heading: str, out: TextIO, dry_run: bool, root: Path) -> bool:
    """Print a release change and its diffs, then write it all or nothing unless `dry_run`; True when written.
    Shared by promote and rollback."""
    out.write(f"{heading}:\n")
    for change in edit.changes:
        out.write(f"  {change}\n")
    out.write(f"\n{edit.stack_file_diff}\n")
    for render_diff in edit.render_diffs.values():
        out.write(f"{render_diff}\n")
    if dry_run:
        out.write("--dry-run: nothing written.\n")
        return False
    _write(edit, root)
    return True
