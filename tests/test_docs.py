"""README.md and docs/ cannot rot: every generated part is current (and `make docs` regenerates all of
them), every link and every `python -m ops` command they show works, the README stays an index, the
exit-code table says what the code does, and no citation points at a document this repository lacks."""

from __future__ import annotations

import io
import re
import shlex
from contextlib import redirect_stderr
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from ops import commands, component_args, component_schema, errors, exit_table, rule_table, runbook, settings_doc
from ops.__main__ import build_parser, generated_parts
from ops.generated import GeneratedPart
from tests.conftest import ROOT

PARTS = {
    "settings": settings_doc.PART,
    "rules": rule_table.PART,
    "runbook": runbook.PART,
    "exit-codes": exit_table.PART,
    "component-args": component_args.PART,
    "component": component_schema.PART,
}
assert list(PARTS.values()) == generated_parts(), "`python -m ops docs` regenerates every part"
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *DOCS]
README_MAX_LINES = 150
# Research notes kept outside this repository: a reader cannot check a citation of them.
OUTSIDE_DOCUMENTS = ("gke-facts", "containment-facts", "socketio-facts", "pulumi-facts", "../shared")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A command in a code block runs to the end of its line or its comment; inline, to the closing backtick.
OPS_COMMAND = re.compile(r"python -m ops [^`#\n]*")


def links(text: str) -> list[str]:
    """The targets of the Markdown links in a text, outside code (a regex in a code span is no link)."""
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL))
    return LINK.findall(prose)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT))


def without_generated_parts(path: Path) -> str:
    """The hand-written text of a document: every generated part cut out."""
    text = path.read_text(encoding="utf-8")
    for part in PARTS.values():
        if part.document == path:
            head, rest = text.split(part.begin, 1)
            text = head + rest.split(part.end, 1)[1]
    return text


# --- generated parts --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PARTS))
def test_every_generated_part_is_current(name: str) -> None:
    part = PARTS[name]
    assert part.is_current(), f"{shown(part.document)} is stale: run `make docs` (or `{part.command}`)"


def test_make_docs_regenerates_every_part() -> None:
    """The Makefile's `docs` target runs each part's command, and nothing else is generated unseen."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^docs:.*\n((?:\t.*\n?)+)", makefile, flags=re.MULTILINE)
    assert target, "the Makefile has no `docs` target"
    commands = {re.sub(r"^\t\$\(VENV\)/bin/", "", line) for line in target.group(1).splitlines()}
    assert commands == {part.command for part in PARTS.values()}


def test_every_generated_marker_in_the_docs_belongs_to_a_part() -> None:
    owned = {(part.document, part.begin) for part in PARTS.values()}
    for path in DOCUMENTS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"<!-- [a-z-]+:begin", line):
                assert (path, line) in owned, f"{shown(path)}: {line} has no generator in tests/test_docs.py PARTS"


def _copy(part: GeneratedPart, tmp_path: Path, text: str) -> GeneratedPart:
    document = tmp_path / part.document.name
    document.write_text(text, encoding="utf-8")
    return GeneratedPart(document, part.begin, part.end, part.generate, part.command)


def test_a_stale_part_is_found_named_and_rewritten(tmp_path: Path) -> None:
    current = rule_table.PART.document.read_text(encoding="utf-8")
    stale = _copy(rule_table.PART, tmp_path, current.replace("| `backendconfig-spec` |", "| `backendconfig-gone` |", 1))
    assert not stale.is_current()
    err = io.StringIO()
    with redirect_stderr(err):
        assert stale.main("python -m ops.rule_table", None, ["--check"]) == 1
    assert err.getvalue().strip().endswith("is stale: run `python -m ops.rule_table --write`")
    assert stale.main("python -m ops.rule_table", None, ["--write"]) == 0
    assert stale.is_current() and stale.document.read_text(encoding="utf-8") == current
    assert stale.main("python -m ops.rule_table", None, ["--check"]) == 0


def test_a_document_without_markers_is_one_clear_line(tmp_path: Path) -> None:
    broken = _copy(settings_doc.PART, tmp_path, "# Settings\n\nno markers here\n")
    err = io.StringIO()
    with redirect_stderr(err):
        assert broken.main("python -m ops.settings_doc", None, ["--write"]) == 1
    message = err.getvalue()
    assert message.count("\n") == 1 and message.startswith("error: settings.md has no generated-part markers")
    assert broken.document.read_text(encoding="utf-8") == "# Settings\n\nno markers here\n"


# --- the settings reference -------------------------------------------------------------------


class _Inner(BaseModel):
    size: int = 1
    label: str | None = None


class _Outer(BaseModel):
    mode: Literal["a", "b"]
    inner: _Inner = _Inner(size=5)
    spare: _Inner = _Inner()


def test_settings_keys_walk_nested_models_with_the_enclosing_default() -> None:
    schema = _Outer.model_json_schema()
    found = {key.path: key for key in settings_doc.keys(schema, schema["$defs"])}
    assert list(found) == ["mode", "inner.size", "inner.label", "spare.size", "spare.label"]
    assert found["mode"].required and not found["inner.size"].required
    assert found["inner.size"].default == 5 and found["spare.size"].default == 1
    assert found["inner.label"].default is None


def test_the_settings_reference_holds_every_area_with_its_real_defaults() -> None:
    text = settings_doc.reference()
    for row in (
        "| `cluster.context` | (required) |",
        '| `containment.dns` | `"node-local"` |',
        "| `inspection.deadlineSec` | `600` |",
        "| `release.images.ide` | (required) |",
        '| `deployment.resources.nginx.cpuRequest` | `"100m"` |',
        '| `deployment.resources.ide.cpuRequest` | `"500m"` |',
        "| `backendConfig.timeoutSec` | `86400` | integer; >= 1; <= 86400 |",
        "| `backendConfig.logging.sampleRate` | `1.0` | number; >= 0.0; <= 1.0 |",
    ):
        assert row in text, row


# --- the README as an index, links and commands -----------------------------------------------


def test_the_readme_is_an_index() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines; move the detail into docs/"
    linked = {target.split("#")[0] for target in links(README.read_text(encoding="utf-8"))}
    assert {f"docs/{path.name}" for path in DOCS} <= linked, "every document in docs/ is linked from the README"


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors of a document's headings."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {runbook._anchor(heading)[1:] for heading in headings}


@pytest.mark.parametrize("path", DOCUMENTS, ids=shown)
def test_every_relative_link_resolves(path: Path) -> None:
    for target in links(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{shown(path)} links to {target}, which does not exist"
        if anchor:
            assert anchor in _anchors(linked), f"{shown(path)} links to {target}: no such heading in {linked.name}"


def _commands() -> list[tuple[str, str]]:
    return sorted({(shown(path), match.group(0).strip()) for path in DOCUMENTS for match in OPS_COMMAND.finditer(path.read_text(encoding="utf-8"))})


@pytest.mark.parametrize(("document", "command"), _commands())
def test_every_command_the_docs_show_parses(document: str, command: str) -> None:
    """The whole line through the CLI's own parser: the sub-command, its arguments and its flags."""
    try:
        build_parser().parse_args(shlex.split(command)[3:])
    except SystemExit as refused:
        pytest.fail(f"{document} shows `{command}`, which `python -m ops` refuses (exit {refused.code})")


@pytest.mark.parametrize("path", DOCUMENTS, ids=shown)
def test_no_citation_of_a_document_outside_the_repository(path: Path) -> None:
    """Hand-written text cites the primary source (a URL, an upstream repository path). The generated
    rule table shows the registry's `source` strings, owned by the rule modules."""
    text = without_generated_parts(path)
    assert not [name for name in OUTSIDE_DOCUMENTS if name in text], f"{shown(path)} cites notes this repository does not hold"


# --- the exit codes ---------------------------------------------------------------------------


def _exit_rows() -> list[tuple[int, str, str]]:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    table = text.split("## Exit codes", 1)[1]
    return [(int(code), name, rest) for code, name, rest in re.findall(r"^\| (\d+) \| `(EXIT_[A-Z_]+)` \|(.*)$", table, flags=re.MULTILINE)]


def test_the_exit_code_table_says_what_the_code_returns() -> None:
    """The documented table is the one in ops/errors.py, code for code and name for name, each value the constant's."""
    rows = _exit_rows()
    assert [(code, name) for code, name, _ in rows] == [(code.code, code.name) for code in errors.EXIT_CODES]
    assert all(getattr(errors, name) == code for code, name, _ in rows)
    constants = {name: value for name, value in vars(errors).items() if name.startswith("EXIT_") and isinstance(value, int)}
    assert constants == {code.name: code.code for code in errors.EXIT_CODES}, "every EXIT_ constant is in the table"


def test_no_two_meanings_share_an_exit_code() -> None:
    rows = _exit_rows()
    codes = [code for code, _, _ in rows]
    assert len(codes) == len(set(codes)) and codes == sorted(codes)
    assert errors.EXIT_NO_ACCESS != errors.EXIT_WRITE  # the collision this table ended (no access and a write error were both 3)


def test_every_command_row_names_the_commands_that_return_it() -> None:
    rows = {code: rest for code, _, rest in _exit_rows()}
    for command in commands.COMMANDS:
        for code in command.EXITS:
            assert f"`{commands.name(command)}`" in rows[code], (commands.name(command), code)
