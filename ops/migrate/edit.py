"""The one edit `ops migrate --next` makes: `coditect:frontDoors` in Pulumi.<stack>.yaml, and nothing else.

ruamel's round trip keeps comments, order and quoting; the result is read back through the one stack-file
reader and refused unless it differs from the old file in that key only. The write is all-or-nothing under
the stack file's writers' lock (ops/atomic.py), refused if the file changed since it was read.
"""

from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ops import stack_files
from ops.atomic import write_files
from ops.errors import Refused
from ops.migrate.settings import FRONT_DOORS_KEY
from ops.stack_files import StackDocument
from ops.textdiff import unified_diff


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def with_front_doors(document: StackDocument, doors: tuple[str, ...]) -> str:
    """The stack file's new text with frontDoors set to `doors` (a flow list, as the stack files write lists)."""
    crlf = "\r\n" in document.text
    loaded = _yaml().load(document.text.replace("\r\n", "\n") if crlf else document.text) or CommentedMap()
    if loaded.get("config") is None:
        loaded["config"] = CommentedMap()
    value = CommentedSeq(doors)
    value.fa.set_flow_style()
    loaded["config"][FRONT_DOORS_KEY] = value
    out = io.StringIO()
    _yaml().dump(loaded, out)
    text = out.getvalue().replace("\n", "\r\n") if crlf else out.getvalue()
    config = dict(document.data.get("config") or {})
    expected = {**document.data, "config": {**config, FRONT_DOORS_KEY: list(doors)}}
    if stack_files.parse(text, document.name) != expected:
        raise Refused(
            f"{document.name} cannot be edited without changing more than {FRONT_DOORS_KEY}; nothing was changed. Fix: set it by hand in a reviewed change"
        )
    return text


def write_front_doors(path: Path, document: StackDocument, doors: tuple[str, ...]) -> str:
    """Write the edit (the caller holds the stack file's lock from its read); returns the stack file's diff."""
    text = with_front_doors(document, doors)
    write_files({path: text}, unchanged={path: document.text})
    return unified_diff(document.text, text, f"{path.name} (before)", f"{path.name} (after)")
