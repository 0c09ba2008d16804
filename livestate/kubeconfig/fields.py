"""Typed reads of one entry's fields (text, true/false), each refusal naming the file and key."""

from __future__ import annotations

from livestate.errors import Unusable, clip
from livestate.kubeconfig.display import kind_of, show
from livestate.kubeconfig.index import Entry


def where(entry: Entry, field: str) -> str:
    return f"kubeconfig {show(str(entry.file), 200)}: {entry.key}.{field}"


def field_text(entry: Entry, field: str, required: bool = False) -> str | None:
    value = entry.body.get(field)
    if value is None or value == "":
        if required:
            raise Unusable(f"{where(entry, field)} is missing. Fix: write the kubeconfig again (gcloud container clusters get-credentials)")
        return None
    if not isinstance(value, str):
        raise Unusable(f"{where(entry, field)} must be text, found {kind_of(value)}")
    return value


def field_flag(entry: Entry, field: str) -> bool:
    value = entry.body.get(field)
    if value is not None and not isinstance(value, bool):
        raise Unusable(f"{where(entry, field)} must be true or false, found {clip(repr(value), 60)}")
    return bool(value)
