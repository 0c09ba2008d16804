"""Every file of a kubeconfig read (bounded), parsed and indexed by name, the first file to name a
cluster, user or context winning (kubectl's rule); a parse is kept for the same bytes read again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livestate.errors import Unusable, clip
from livestate.kubeconfig.display import kind_of, show
from livestate.kubeconfig.limits import MAX_BYTES
from livestate.kubeconfig.sources import Source, read_bounded
from livestate.kubeconfig.yaml_events import parse

_KINDS = {"clusters": "cluster", "users": "user", "contexts": "context"}


@dataclass(frozen=True)
class Entry:
    """One named cluster, user or context: its body and where it was read."""

    body: dict[str, Any]
    key: str  # e.g. users[3].user
    file: Path


@dataclass(frozen=True)
class Merged:
    """Every file's entries indexed by name, the first file to name one winning (kubectl's rule)."""

    source: Source
    entries: Mapping[str, Mapping[str, Entry]]  # "clusters"/"users"/"contexts" -> name -> entry
    current_context: str | None


_LAST_READ: dict[tuple[Any, ...], Merged] = {}  # the last files parsed, by content: the preflight's parse serves the client's


def read(source: Source) -> Merged:
    """Every file of `source` read (bounded), parsed and indexed; files read before with the same bytes
    are not parsed again (the content is the key: a timestamp can miss a quick rewrite)."""
    what = f"kubeconfig (from {source.origin})"
    raws = tuple(read_bounded(path, what, MAX_BYTES) for path in source.paths)
    key = (source, raws)
    if key not in _LAST_READ:
        _LAST_READ.clear()
        _LAST_READ[key] = _parsed(source, raws, what)
    return _LAST_READ[key]


def _parsed(source: Source, raws: tuple[bytes, ...], what: str) -> Merged:
    entries: dict[str, dict[str, Entry]] = {kind: {} for kind in _KINDS}
    current: str | None = None
    for path, raw in zip(source.paths, raws, strict=True):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Unusable(f"{what} {show(str(path), 200)}: byte offset {error.start} is not UTF-8. Fix: save it as UTF-8") from None
        document = parse(text, f"kubeconfig {show(str(path), 200)}")
        found = _index(document, path, entries)
        current = found if current is None else current
    return Merged(source, entries, current)


def _index(document: Any, path: Path, entries: dict[str, dict[str, Entry]]) -> str | None:
    """Add the file's entries (names not seen before) to `entries`; the file's current-context."""
    shown = f"kubeconfig {show(str(path), 200)}"
    if document is None:
        return None  # an empty file: kubectl reads it as no configuration
    if not isinstance(document, dict):
        raise Unusable(
            f"{shown} must be a mapping (apiVersion: v1, kind: Config, clusters, users, contexts), found {kind_of(document)}. "
            "Fix: write it again (gcloud container clusters get-credentials)"
        )
    for key, expected in (("kind", "Config"), ("apiVersion", "v1")):
        if document.get(key) not in (None, "", expected):
            raise Unusable(f"{shown}: {key} is {clip(repr(document[key]), 80)}, not {expected!r}. Fix: this is not a kubeconfig")
    for kind, body_key in _KINDS.items():
        items = document.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            raise Unusable(f"{shown}: {kind} must be a list of {{name, {body_key}}}, found {kind_of(items)}")
        seen: set[str] = set()
        for index, item in enumerate(items):
            key = f"{kind}[{index}]"
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name:
                raise Unusable(f"{shown}: {key} must be a mapping with a non-empty text `name`, found {kind_of(item if name is None else name)}")
            body = item.get(body_key)
            if body is not None and not isinstance(body, dict):
                raise Unusable(f"{shown}: {key}.{body_key} must be a mapping, found {kind_of(body)}")
            if name in seen:  # client-go refuses it too ("duplicate name in list")
                raise Unusable(f"{shown}: {key}: name {show(name, 100)!r} appears twice in {kind}. Fix: keep one")
            seen.add(name)
            entries[kind].setdefault(name, Entry(body or {}, f"{key}.{body_key}", path))
    current = document.get("current-context")
    if current is not None and not isinstance(current, str):
        raise Unusable(f"{shown}: current-context must be text, found {kind_of(current)}")
    return current or None
