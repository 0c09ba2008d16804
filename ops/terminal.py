"""The one terminal-safe printer: what `python -m ops` writes to stdout and stderr, control characters escaped.

Event messages, probe details, commit subjects, a browser's error events and servers' answers come
from outside. Printed raw, an escape sequence (ESC [2J, CSI 0x9b, a bare carriage return) can clear
the screen, overwrite a line or draw a fake green verdict, and a bidi override (U+202E) can reorder
what is read (CVE-2021-42574, https://trojansource.codes/). `SafeText` wraps the process's text
streams at the command's boundary (`safe_streams`), so every line any command prints is escaped at
this one place, whatever module built it.

Kept: newline and tab (every report's layout). Escaped, as visible text:
  C0 controls U+0000-U+001F but \\n and \\t, carriage return included  -> \\x1b, \\r, \\x00
  DEL U+007F, C1 controls U+0080-U+009F                                  -> \\u007f, \\u009b
  bidi embeddings/overrides U+202A-U+202E, isolates U+2066-U+2069,
  the bidi marks U+200E, U+200F, U+061C                                  -> \\u202e
  lone surrogates U+D800-U+DFFF (which no UTF-8 stream can encode)       -> \\udcff
The non-C0 forms are JSON escapes of the same character, so a JSON document (json.dumps leaves DEL,
C1 and, with ensure_ascii=False, bidi characters raw) stays valid and decodes to the same data; C0
controls never reach it raw, json.dumps escapes them.

The kept newline is the report's own: a value from outside (a server's answer, an API or event
message) is folded onto one line per field with `fold` (livestate/oneline.py, shared with livestate's
diagnosis text) where a report places it, so it cannot start a line that reads like a verdict.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from livestate.oneline import LINE_BREAKS, fold

__all__ = ["LINE_BREAKS", "SafeText", "escape", "fold", "safe_streams", "unsafe"]

C0_NAMES = {"\r": "\\r", "\x1b": "\\x1b"}
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def unsafe(char: str) -> bool:
    """A character a terminal may act on (or a bidi algorithm reorder by) rather than show."""
    code = ord(char)
    if code < 0x20:
        return char not in "\n\t"
    return 0x7F <= code <= 0x9F or char in BIDI or 0xD800 <= code <= 0xDFFF


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return C0_NAMES.get(char, f"\\x{code:02x}")
    return f"\\u{code:04x}"


# str.translate with a table built once: a report of megabytes is escaped at C speed.
_TABLE = {code: _escaped(chr(code)) for code in [*range(0x20), *range(0x7F, 0xA0), *map(ord, BIDI), *range(0xD800, 0xE000)] if unsafe(chr(code))}


def escape(text: str) -> str:
    """`text` with every character a terminal would act on written as a visible escape."""
    return text.translate(_TABLE)


class SafeText:
    """A text stream that escapes what it is given (see `escape`) and passes it on to `stream`.

    Escaping works character by character, so text split across writes is escaped the same as whole.
    Everything else (flush, fileno, isatty, encoding, a capture's getvalue) is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(escape(text))
        return len(text)  # what the caller gave: a write is whole or raises

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def safe_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr escaped for the duration; the streams found on entry are put back on exit."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _wrapped(stdout), _wrapped(stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _wrapped(stream: TextIO) -> Any:
    return stream if isinstance(stream, SafeText) else SafeText(stream)
