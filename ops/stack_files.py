"""The one reader of Pulumi project and stack files: bounded, strict, and exact about where a problem is.

The Pulumi CLI reads these files as plain YAML 1.2: strings, numbers, booleans, null, lists and
mappings with string keys, each key once. This reader builds the document from the parser's events
itself, so every limit holds before anything is expanded:

- at most ``MAX_BYTES`` bytes, valid UTF-8, one document;
- at most ``MAX_ALIASES`` aliases, and at most ``MAX_VALUES`` values once they are expanded (an
  alias bomb of a few kilobytes is refused after reading it, in milliseconds);
- at most ``MAX_DEPTH`` levels of nesting;
- string keys only, no duplicate key, no merge key (``<<``), no tag but the core ones;
- a plain scalar that YAML 1.1 (PyYAML, older tools) and YAML 1.2 (the Pulumi CLI) read differently
  (``on``, ``010``, ``2024-01-01``), or a number whose text is not what the program would get
  (``1.10`` is the number 1.1), is refused with the fix: quote it.

Every refusal is a StackFileError naming the file, the line and the key. ``ops promote`` edits a
stack file in place from the positions recorded here, so it never rewrites what it does not change.
"""

from __future__ import annotations

import copy
import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.resolver import Resolver

from ops.errors import StackFileError, clip

MAX_BYTES = 1 << 20  # a stack file is a few kilobytes; a megabyte is not a stack file
MAX_ALIASES = 64
MAX_VALUES = 10_000  # scalars and collections, aliases counted as what they expand to
MAX_DEPTH = 32

Path_ = tuple[str | int, ...]  # where a value sits: mapping keys and list indexes

# libyaml when the PyYAML wheel has it: the same events, parsed about ten times faster.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null"))
SCALAR_TAGS = {STR, INT, FLOAT, BOOL, NULL}
COLLECTION_TAGS = {f"{_CORE}map", f"{_CORE}seq"}

# YAML 1.2 core schema, as the Pulumi CLI (go-yaml v3) reads plain scalars.
_CORE_SCHEMA = (
    (NULL, re.compile(r"^(?:~|null|Null|NULL|)$")),
    (BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")),
    (INT, re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")),
    (FLOAT, re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")),
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_YAML_1_1 = Resolver()  # PyYAML's resolver: YAML 1.1, where `on` is a boolean and `010` is eight


@dataclass(frozen=True)
class ScalarSpan:
    """Where a scalar's text is in the file (character offsets), and how it was written."""

    start: int
    end: int
    style: str | None  # None: plain; "'" or '"': quoted; "|" or ">": block


@dataclass
class StackDocument:
    """A parsed project or stack file: its values, its text, and where each scalar's text is."""

    name: str
    text: str
    data: dict[str, Any]
    spans: dict[Path_, ScalarSpan] = field(default_factory=dict)


def key_text(path: Path_) -> str:
    """`config.coditect:release.images.nginx` as Pulumi names it: coditect:release.images.nginx."""
    parts = list(path[1:]) if len(path) > 1 and path[0] == "config" else list(path)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def config_key(key: object, where: str) -> str:
    """A stack file's config key as the Pulumi CLI reads it (pulumi/pulumi sdk/go/common/resource/config/key.go,
    ParseKey): `<namespace>:<name>`, or the older `<namespace>:config:<name>`, which means `<namespace>:<name>`.
    Any other key the CLI refuses, so it is refused here too, rather than read under a namespace it never had."""
    text = str(key)
    parts = text.split(":")
    if len(parts) == 2:
        return text
    if len(parts) == 3 and parts[1] == "config":
        return f"{parts[0]}:{parts[2]}"
    shown = clip(repr(text), 120)
    if len(parts) == 1:
        raise StackFileError(f"{where}: config key {shown} has no namespace, and the Pulumi CLI refuses it. Fix: write it as coditect:{clip(text, 100)}")
    raise StackFileError(
        f"{where}: config key {shown} is not <namespace>:<name> (nor <namespace>:config:<name>), and the Pulumi CLI refuses it. Fix: write it as coditect:<key>"
    )


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def _span(event: yaml.ScalarEvent) -> ScalarSpan | None:
    if event.start_mark is None or event.end_mark is None:
        return None
    return ScalarSpan(event.start_mark.index, event.end_mark.index, event.style or None)


def _where(name: str, line: int, path: Path_) -> str:
    key = key_text(path)
    return f"{name}, line {line}" + (f", key {clip(key, 120)}" if key else "")


@dataclass
class _Open:
    """A mapping or list being built."""

    value: dict[str, Any] | list[Any]
    path: Path_
    anchor: str | None
    values_before: int
    key: str | None = None  # a mapping's key waiting for its value
    key_lines: dict[str, int] = field(default_factory=dict)


class _Builder:
    """Builds one document from parser events, refusing whatever Pulumi would not read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.open: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, how many values it expands to)
        self.aliases = 0
        self.values = 0
        self.documents = 0
        self.root: Any = None
        self.spans: dict[Path_, ScalarSpan] = {}

    def refuse(self, event: yaml.Event, problem: str, fix: str, path: Path_ | None = None) -> StackFileError:
        where = _where(self.name, _line(event), self.child_path() if path is None else path)
        return StackFileError(f"{where}: {problem}. Fix: {fix}")

    def child_path(self) -> Path_:
        """The path of the value the next event is."""
        if not self.open:
            return ()
        top = self.open[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        return (*top.path, top.key) if top.key is not None else top.path

    def count(self, event: yaml.Event, values: int) -> None:
        self.values += values
        if self.values > MAX_VALUES and self.aliases:
            raise self.refuse(
                event,
                f"the document expands to more than {MAX_VALUES} values (YAML aliases multiply what they name)",
                "write the values out; a stack file needs no aliases",
            )
        if self.values > MAX_VALUES:  # no alias: the values are written out, one list or mapping is too long
            longest = max(self.open, key=lambda frame: len(frame.value), default=None)
            where = clip(key_text(longest.path), 120) if longest and longest.path else "the list or mapping this value is in"
            raise self.refuse(
                event, f"the document has more than {MAX_VALUES} values (scalars, lists and mappings; a stack file holds a few hundred)", f"shorten {where}"
            )

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.refuse(event, "a second YAML document ('---')", "keep one document per file", ())
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            self.count(event, 1)
            value = self.scalar(event)
            if event.anchor:
                self.anchors[event.anchor] = (value, 1)
            self.add(event, value, _span(event))
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self.count(event, 1)
            if len(self.open) >= MAX_DEPTH:
                raise self.refuse(event, f"nested more than {MAX_DEPTH} levels deep", "flatten the value")
            if event.tag not in (None, "!", *COLLECTION_TAGS):
                raise self.refuse(event, f"tag {_shown_tag(event.tag)} is not supported in a stack file", "remove the tag")
            if self.open and isinstance(self.open[-1].value, dict) and self.open[-1].key is None:
                raise self.refuse(event, "a list or mapping used as a key", "keys are strings")
            collection: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
            self.open.append(_Open(collection, self.child_path(), event.anchor, self.values - 1))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            closed = self.open.pop()
            if closed.anchor:
                self.anchors[closed.anchor] = (closed.value, self.values - closed.values_before)
            self.add(event, closed.value, None)

    def alias(self, event: yaml.AliasEvent) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise self.refuse(event, f"more than {MAX_ALIASES} YAML aliases", "write the values out; a stack file needs no aliases")
        if any(frame.anchor == event.anchor for frame in self.open):
            raise self.refuse(event, f"alias *{clip(str(event.anchor), 60)} refers to a value that contains it", "remove the alias")
        if event.anchor not in self.anchors:
            raise self.refuse(event, f"alias *{clip(str(event.anchor), 60)} names no anchor", "define the anchor (&name) before the alias")
        value, size = self.anchors[event.anchor]
        self.count(event, size)
        self.add(event, copy.deepcopy(value), None)  # bounded: `size` counted against MAX_VALUES first

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        text = event.value
        if event.style == '"' and _SURROGATE.search(text):  # only an escape (\ud800) can make one
            raise self.refuse(event, "an escape makes a lone surrogate, which is not Unicode text", "remove the \\uD800-\\uDFFF escape")
        if (event.tag in (None, "!") and not event.implicit[0]) or event.tag in ("!", STR):
            return text  # quoted, or explicitly a string
        if event.tag is not None and event.tag not in SCALAR_TAGS:
            raise self.refuse(
                event,
                f"tag {_shown_tag(event.tag)} is not supported in a stack file (Pulumi reads strings, numbers, booleans, null, lists and mappings)",
                "remove the tag; quote the value if it is text",
            )
        tag = next(tag for tag, pattern in (*_CORE_SCHEMA, (STR, re.compile(""))) if pattern.match(text))
        if event.tag is not None and event.tag != tag:
            raise self.refuse(event, f"{clip(repr(text), 60)} is not {_kind(event.tag)}", f"write {_kind(event.tag)}, or drop the tag")
        if event.tag is None:
            older = _YAML_1_1.resolve(yaml.ScalarNode, text, (True, False))
            if older == f"{_CORE}merge":
                raise self.refuse(event, "merge keys (<<) are not supported in a stack file", "write the keys out")
            if older != tag:
                readings = f"YAML 1.1 reads it as {_kind(older)}, YAML 1.2 (the Pulumi CLI) as {_kind(tag)}"
                raise self.refuse(event, f"{clip(repr(text), 60)} is ambiguous: {readings}", f"quote it ('{clip(text, 60)}') if it is text")
        return self.typed(event, text, tag)

    def typed(self, event: yaml.ScalarEvent, text: str, tag: str) -> Any:
        if tag == NULL:
            return None
        if tag == BOOL:
            return text.lower() == "true"
        if tag == INT:
            number = int(text, 0) if text[:2] in ("0o", "0x") else int(text)
            if str(number) != text:
                raise self.refuse(
                    event, f"{clip(text, 60)} is read as the number {clip(str(number), 60)}", f"write {clip(str(number), 60)}, or quote it if it is text"
                )
            return number
        if tag == FLOAT:
            real = float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
            if not math.isfinite(real):
                raise self.refuse(event, f"{text} is not a finite number", "write a finite number")
            if repr(real) != text:
                raise self.refuse(event, f"{clip(text, 60)} is read as the number {real!r}", f"quote it ('{clip(text, 60)}') if it is text, or write {real!r}")
            return real
        return text

    def add(self, event: yaml.Event, value: Any, span: ScalarSpan | None) -> None:
        if not self.open:
            self.root = value
            return
        top = self.open[-1]
        if isinstance(top.value, list):
            if span is not None:
                self.spans[(*top.path, len(top.value))] = span
            top.value.append(value)
            return
        if top.key is None:
            self.add_key(event, top, value)
            return
        if span is not None:
            self.spans[(*top.path, top.key)] = span
        top.value[top.key] = value
        top.key = None

    def add_key(self, event: yaml.Event, top: _Open, key: Any) -> None:
        line = _line(event)
        if not isinstance(key, str) or not isinstance(event, yaml.ScalarEvent):
            what = "a list or mapping" if isinstance(key, (list, dict)) else _kind(_TAG_OF.get(type(key), STR))
            raise self.refuse(event, f"key {clip(repr(key), 60)} is {what}, not a string", "quote the key", top.path)
        if key in top.key_lines:
            raise self.refuse(
                event, f"duplicate key (first at line {top.key_lines[key]}); the Pulumi CLI refuses such a file", "keep one of them", (*top.path, key)
            )
        top.key_lines[key] = line
        top.key = key


_TAG_OF: dict[type, str] = {type(None): NULL, bool: BOOL, int: INT, float: FLOAT, str: STR}


def _shown_tag(tag: str | None) -> str:
    return clip(f"!!{tag.removeprefix(_CORE)}" if tag and tag.startswith(_CORE) else str(tag), 60)


def _kind(tag: str) -> str:
    return {NULL: "null", BOOL: "a boolean", INT: "an integer", FLOAT: "a number", STR: "text"}.get(tag, tag.removeprefix(_CORE))


def parse_document(text: str, name: str) -> StackDocument:
    """The document in `text` (of the file called `name`), or StackFileError."""
    builder = _Builder(name)
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            builder.feed(event)
    except yaml.YAMLError as error:
        raise StackFileError(f"{name} is not valid YAML: {clip(str(error), 300)}".replace("\n", " ")) from None
    if builder.root is None:
        return StackDocument(name, text, {}, {})
    if not isinstance(builder.root, dict):
        raise StackFileError(f"{name} must be a YAML mapping, found {type(builder.root).__name__}. Fix: start it with `config:`")
    return StackDocument(name, text, builder.root, builder.spans)


def parse(text: str, name: str) -> dict[str, Any]:
    return parse_document(text, name).data


def decode(raw: bytes, name: str) -> str:
    """`raw` as UTF-8 text, or StackFileError naming the line of the first byte that is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise StackFileError(f"{name}, line {line}: byte 0x{raw[error.start]:02x} (offset {error.start}) is not UTF-8. Fix: save the file as UTF-8") from None


def read_text(path: Path) -> str:
    """The file's text, bounded and decoded, or StackFileError."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device would block or never end
            raise StackFileError(f"{path.name} is not a regular file. Fix: replace it with the stack file")
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise StackFileError(f"{path.name} not found in {clip(str(path.parent), 200)}") from None
    except IsADirectoryError:
        raise StackFileError(f"{path.name} is a directory, not a file. Fix: replace it with the stack file") from None
    except OSError as error:
        raise StackFileError(f"{path.name} cannot be read: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise StackFileError(f"{path.name} is larger than {MAX_BYTES} bytes, the most a stack file may have. Fix: remove what does not belong in it")
    return decode(raw, path.name)


def read_document(path: Path) -> StackDocument:
    return parse_document(read_text(path), path.name)


def read(path: Path) -> dict[str, Any]:
    return read_document(path).data
