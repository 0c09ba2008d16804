"""One field, one line: a value from outside printed inside a report never starts a line of its own.

An event message, a condition message, an API's error text or a server's answer can hold a line
break followed by words that read like the report's own verdict ("\\n[PASS] handshake",
"\\nconverged"). The terminal printer (ops/terminal.py) escapes what a terminal acts on but keeps
"\\n", the layout of every report; so each value from outside is folded here, field by field, before
it is placed on a report line. The report's own newlines stay; JSON output keeps the exact value.

Folded, as visible escapes: every separator `str.splitlines` breaks on
(https://docs.python.org/3/library/stdtypes.html#str.splitlines): \\n, \\r, \\v, \\f, the
file/group/record separators \\x1c-\\x1e, NEL U+0085, LINE SEPARATOR U+2028, PARAGRAPH SEPARATOR
U+2029. The escapes are the ones ops/terminal.py writes for the same characters, so a folded value
reads the same whichever of the two escaped it. Here, not in `ops`, because livestate's diagnosis
text (livestate/diagnosis.py) folds its own fields and livestate imports no `ops`.
"""

from __future__ import annotations

LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _escape(char: str) -> str:
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r"}.get(char, f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}")


_TABLE = {ord(char): _escape(char) for char in LINE_BREAKS}


def fold(value: object) -> str:
    """`value` as text on one line: every line break written as a visible escape (\\n, \\u2028, ...)."""
    return str(value).translate(_TABLE)
