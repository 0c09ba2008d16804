"""The terminal-safe printer (issue 19, class 5): what comes from outside is printed with control characters escaped.

The escaping itself (every unsafe character, nothing else, JSON kept valid), then the real command
paths through `python -m ops`'s boundary: an Event's message in `inspect`, a probe's detail in
`probe`, a commit subject in `history`, an HTTP answer echoed by `verify`. The browser's error
events are in tests/test_verify_redirects.py, which starts Chromium.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.__main__ import main
from ops.terminal import SafeText, escape, safe_streams, unsafe
from tests import test_probe_runs as probe_tests
from tests import test_rollback as rollback_tests
from tests.hostile_server import Connection, HostileServer, Request
from tests.standin.harness import Running
from tests.standin.jobs import Cluster
from tests.standin.world import fixture
from tests.test_inspect import inspect, live  # noqa: F401  (live is a fixture)

# The attacks of the issue and their kin: clear the screen and draw a green PASS, CSI as one C1 byte,
# a carriage return that overwrites the line, a bidi override, BEL, a title-setting OSC, NUL, DEL.
ATTACKS = [
    "\x1b[2J\x1b[H\x1b[32m[PASS] verdict: PASS\x1b[0m",
    "\x9b2J\x9b32mPASS",
    "FAIL\r[PASS]",
    "PASS \u202eLIAF\u202c",
    "\a\x1b]0;owned\x07",
    "a\x00b",
    "x\x7fy",
    "\u2066isolate\u2069",
    "\x85next line",
    "\ud800lone surrogate",
]
CONTROLISH = st.sampled_from(
    [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]] + list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
)
HOSTILE_TEXT = st.lists(st.one_of(CONTROLISH, st.sampled_from(ATTACKS), st.text(max_size=5)), min_size=1, max_size=8).map("".join)


def raw_controls(text: str) -> list[str]:
    return [c for c in text if unsafe(c)]


# --- the escaping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_attack_is_shown_not_acted_on(attack: str) -> None:
    escaped = escape(attack)
    assert not raw_controls(escaped), repr(escaped)
    assert "\\" in escaped


def test_the_escapes_are_visible_and_name_the_character() -> None:
    assert escape("\x1b[2J") == "\\x1b[2J"
    assert escape("a\rb") == "a\\rb"
    assert escape("\x9b") == "\\u009b" and escape("\x7f") == "\\u007f"
    assert escape("\u202e") == "\\u202e" and escape("\ud800") == "\\ud800"


def test_newline_tab_and_printable_text_pass_unchanged() -> None:
    text = "[PASS] handshake: HTTP 200\n\tpods: é €𝄞 中文 \u00a0 \\x1b"
    assert escape(text) == text


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_no_unsafe_character_survives_and_nothing_else_changes(text: str) -> None:
    escaped = escape(text)
    assert not raw_controls(escaped)
    if not raw_controls(text):
        assert escaped == text


@settings(max_examples=200, deadline=None)
@given(
    value=st.recursive(
        st.text() | st.integers() | st.none(), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8
    ),
    ensure_ascii=st.booleans(),
)
def test_json_stays_valid_and_decodes_to_the_same_data(value: object, ensure_ascii: bool) -> None:
    document = json.dumps({"value": value}, ensure_ascii=ensure_ascii)
    escaped = escape(document)
    assert not raw_controls(escaped)
    assert json.loads(escaped) == {"value": value}


@settings(max_examples=100, deadline=None)
@given(text=HOSTILE_TEXT, cuts=st.lists(st.integers(0, 60), max_size=4))
def test_text_split_across_writes_is_escaped_as_whole(text: str, cuts: list[int]) -> None:
    sink = io.StringIO()
    stream = SafeText(sink)
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    for start, end in itertools.pairwise(points):
        assert stream.write(text[start:end]) == end - start
    assert sink.getvalue() == escape(text)


def test_the_streams_are_put_back_and_never_wrapped_twice() -> None:
    import sys

    before = sys.stdout
    with safe_streams():
        inner = sys.stdout
        assert isinstance(inner, SafeText) and inner.stream is before
        with safe_streams():
            assert sys.stdout is inner
    assert sys.stdout is before


# --- the real command paths --------------------------------------------------------------------------


def run_main(*argv: str) -> tuple[int, str]:
    """`python -m ops ARGV` in this process, what it printed to stdout and stderr together."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_an_argument_echoed_in_an_error_line_is_escaped() -> None:
    code, printed = run_main("--project", "/nonexistent\x1b[2J", "render", "prod")
    assert code == 2 and not raw_controls(printed) and "/nonexistent\\x1b[2J" in printed


def history_repo(tmp_path: Path, subject: str) -> Path:
    root = rollback_tests.copy_project(tmp_path)
    rollback_tests.git(root, "init", "-q", "-b", "main")
    rollback_tests.commit(root, subject, 1)
    return root


def test_issue_a_commit_subject_cannot_clear_the_screen(tmp_path: Path) -> None:
    root = history_repo(tmp_path, "prod 1.4.2 \x1b[2J\x1b[H\x1b[32mall green\x1b[0m\r")
    code, printed = run_main("--project", str(root), "history", "prod")
    assert code == 0 and not raw_controls(printed), repr(printed)
    assert "prod 1.4.2 \\x1b[2J\\x1b[H\\x1b[32mall green\\x1b[0m" in printed


@settings(max_examples=6, deadline=None)
@given(subject=HOSTILE_TEXT.filter(lambda s: s.strip() and "\x00" not in s and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)))
def test_history_escapes_any_commit_subject(tmp_path_factory: pytest.TempPathFactory, subject: str) -> None:
    root = history_repo(tmp_path_factory.mktemp("history"), subject)
    code, printed = run_main("--project", str(root), "history", "prod")
    assert code == 0 and not raw_controls(printed), repr(printed)
    code, printed = run_main("--project", str(root), "history", "prod", "--json")
    assert code == 0 and not raw_controls(printed)
    assert json.loads(printed)["releases"]  # still one valid document (how history splits a subject is history's, issue 19 class 7)


def test_issue_an_event_message_cannot_draw_a_fake_verdict(live: Running, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    event = fixture("k8s_event_translation_failed")
    event["message"] = "could not find service\x1b[2J\x1b[H\x1b[32mconverged (1 poll)\x1b[0m\r\u202e"
    live.world.add("events", event)
    code, out, err = inspect(live, capsys=capsys)
    assert code == 1 and not raw_controls(out + err), repr(out)
    assert "could not find service\\x1b[2J\\x1b[H\\x1b[32mconverged" in out and "\\u202e" in out


def probe_log(detail: str) -> str:
    table = probe_tests.TABLE
    lines = [
        probe_tests.line(p.name, "reached" if p is table[0] else ("blocked" if p.expect.value == "blocked" else "reached"), detail if p is table[0] else "ok")
        for p in table
    ]
    return "Python 3.13\n" + "\n".join(lines)


@settings(max_examples=5, deadline=None)
@given(detail=HOSTILE_TEXT)
def test_a_probe_detail_is_escaped(detail: str) -> None:
    import tempfile

    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr(probe_tests.probe_run, "render_stack", lambda stack, root: (probe_tests.golden_manifests(stack), probe_tests.CONTEXT))
        patch.setattr(probe_tests.probe_run, "_wait_and_read", probe_tests._fast(probe_tests.probe_run._wait_and_read))
        cluster = Cluster(log=probe_log(detail))
        with probe_tests.serving_jobs(cluster) as url:
            kubeconfig = probe_tests.write_kubeconfig(Path(tmp) / "kubeconfig.json", url, probe_tests.CONTEXT)
            code, printed = run_main("probe", "prod", "--peer", probe_tests.PEER, "--kubeconfig", str(kubeconfig))
    assert code == 1 and not raw_controls(printed), repr(printed)


def test_issue_a_server_answer_echoed_by_verify_is_escaped() -> None:
    """A status line and body made to repaint the terminal: verify's verdict shows them, escaped."""

    def answer(conn: Connection, request: Request) -> bool:
        return conn.respond("\x1b[2J\x1b[32m[PASS] verdict: PASS\u202e", status="500 \x1b[2JOops")

    with HostileServer(answer) as server:
        code, printed = run_main("verify", server.url(), "--timeout", "1")
    assert code == 1 and not raw_controls(printed), repr(printed)
    assert "verdict: FAIL" in printed
