"""A kubeconfig's YAML (or JSON) built from the parser's events under limits: `MAX_DEPTH` levels,
`MAX_NODES` values with aliases expanded, keys text and each once, one document, no merge keys or
foreign tags; scalars read as go-yaml reads a kubeconfig's fields."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from livestate.errors import Unusable
from livestate.kubeconfig.display import kind_of, show
from livestate.kubeconfig.limits import MAX_DEPTH, MAX_NODES

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NO_KEY = object()
_SEQUENCE_OR_MAPPING = (None, "!", f"{_CORE}seq", f"{_CORE}map")
_SCALAR_TAGS = (None, "!", *(f"{_CORE}{t}" for t in ("str", "int", "bool", "null", "float")))
_PLAIN = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}


class _Builder:
    """A document from YAML events, under the depth and value limits, with string keys each once.
    One frame per open collection: [container, pending key, anchor, values before it]. The loop is
    written for speed: a kubeconfig of 20,000 users is some 400,000 events."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.frames: list[list[Any]] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, values it expands to)
        self.root: Any = None
        self.nodes = 0
        self.documents = 0

    def fail(self, event: yaml.Event, problem: str) -> Unusable:
        line = event.start_mark.line + 1 if event.start_mark else 0
        return Unusable(f"{self.name}, line {line}: {problem}")

    def run(self, events: Iterable[Any]) -> None:
        frames, scalar, alias, end = self.frames, yaml.ScalarEvent, yaml.AliasEvent, (yaml.SequenceEndEvent, yaml.MappingEndEvent)
        for event in events:
            kind = type(event)
            if kind is scalar:  # the common case inlined: a plain text value under a mapping key
                value = event.value if event.tag is None and event.style else _scalar(event, self)
                frame = frames[-1] if frames else None
                if frame is None or event.anchor is not None or type(frame[0]) is not dict:
                    self._add(event, value, 1)
                elif frame[1] is not _NO_KEY:
                    self.nodes += 1
                    frame[0][frame[1]] = value
                    frame[1] = _NO_KEY
                elif type(value) is str and value not in frame[0] and value != "<<":  # a key
                    self.nodes += 1
                    frame[1] = value
                else:
                    self._add(event, value, 1)  # says what is wrong with the key
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.tag not in _SEQUENCE_OR_MAPPING:
                    raise self.fail(event, f"tag {show(str(event.tag), 60)} is not a kubeconfig value. Fix: remove it")
                container: list[Any] | dict[str, Any] = {} if kind is yaml.MappingStartEvent else []
                self._add(event, container, 1)
                if len(frames) >= MAX_DEPTH:
                    raise self.fail(event, f"more than {MAX_DEPTH} levels of nesting; a kubeconfig has five")
                frames.append([container, _NO_KEY, event.anchor, self.nodes])
            elif kind in end:
                frame = frames.pop()
                if frame[2] is not None:
                    self.anchors[frame[2]] = (frame[0], self.nodes - frame[3] + 1)
            elif kind is alias:
                if event.anchor not in self.anchors:  # libyaml's parser leaves this to a composer, which this is
                    raise self.fail(event, f"alias *{show(event.anchor, 60)} names no anchor before it. Fix: define &{show(event.anchor, 60)} first")
                value, size = self.anchors[event.anchor]
                self._add(event, value, size)
            elif kind is yaml.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise self.fail(event, "a second YAML document; a kubeconfig is one. Fix: remove the `---` and what follows")

    def _add(self, event: Any, value: Any, size: int) -> None:  # Any: the event classes' stubs lack `anchor`
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise self.fail(event, f"more than {MAX_NODES} values (aliases counted as what they expand to)")
        if size == 1 and type(event) is yaml.ScalarEvent and event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        if not self.frames:
            self.root = value
            return
        frame = self.frames[-1]
        container = frame[0]
        if type(container) is list:
            container.append(value)
        elif frame[1] is _NO_KEY:
            if type(value) is not str:
                raise self.fail(event, f"a mapping key must be text, found {kind_of(value)}. Fix: quote it")
            if value in container:
                raise self.fail(event, f"key {show(value, 80)!r} appears twice in one mapping. Fix: keep one")
            if value == "<<":
                raise self.fail(event, "merge keys (<<) are not read. Fix: write the keys out")
            frame[1] = value
        else:
            container[frame[1]] = value
            frame[1] = _NO_KEY


def _scalar(event: yaml.ScalarEvent, builder: _Builder) -> Any:
    """A scalar as go-yaml reads it for the fields a kubeconfig has: quoted is text; plain null, booleans
    and numbers are themselves; anything else is text. (libyaml gives a plain scalar style "".)"""
    value, tag = event.value, event.tag
    if tag is None:
        return _plain(value) if not event.style else value
    if tag not in _SCALAR_TAGS:
        raise builder.fail(event, f"tag {show(str(tag), 60)} is not a kubeconfig value. Fix: remove it")
    return value if tag in ("!", f"{_CORE}str") else _plain(value)


def _plain(value: str) -> Any:
    if value in _PLAIN:
        return _PLAIN[value]
    first = value[:1]
    if first.isdigit() or (first and first in "-+."):
        if _INT.fullmatch(value):
            return int(value) if len(value) < 100 else value  # Python refuses ints of over 4,300 digits
        if _FLOAT.fullmatch(value):
            return float(value)
    return value


def _unique_keys(name: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) != len(pairs):
            twice = next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i]))
            raise Unusable(f"{name}: key {show(twice, 80)!r} appears twice in one mapping. Fix: keep one")
        return built

    return build


def parse(text: str, name: str) -> Any:
    """The YAML (or JSON) document in `text`, or Unusable naming the file and line."""
    if text.lstrip().startswith("{"):  # JSON (as `kubectl config view -o json` writes): its own parser is 20 times faster
        try:
            return json.loads(text, object_pairs_hook=_unique_keys(name))
        except ValueError:
            pass  # YAML then, which says where the problem is
        except RecursionError:
            raise Unusable(f"{name}: nested too deep to be a kubeconfig") from None
    builder = _Builder(name)
    try:
        loader = _LOADER(text)
        try:
            builder.run(iter(loader.get_event, None))  # the parser's own method: no generator between it and the builder
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise Unusable(
            f"{name} is not valid YAML: {show(str(error).replace(chr(10), ' '), 300)}. Fix: correct the file, or "
            "write it again (gcloud container clusters get-credentials)"
        ) from None
    except RecursionError:
        raise Unusable(f"{name}: nested too deep to be a kubeconfig") from None
    return builder.root
