"""docs/runbook.md cannot rot: every command it names parses, and every rule it names exists."""

from __future__ import annotations

import re
import shlex

import pytest

from coditect import gke
from ops.__main__ import build_parser
from tests.conftest import ROOT

RUNBOOK = ROOT / "docs" / "runbook.md"
COMMANDS_RUNBOOK_NEEDS = {"inspect", "verify", "check", "history", "rollback"}
# A command in a code block runs to the end of its line or its comment; inline, to the closing backtick.
OPS_COMMAND = re.compile(r"python -m ops [^`#\n]*")
RULE_ID = re.compile(r"rule `([a-z0-9-]+)`|rules ((?:`[a-z0-9-]+`(?:, | and )?)+)")


def runbook_commands() -> list[str]:
    return [match.group(0).strip() for match in OPS_COMMAND.finditer(RUNBOOK.read_text())]


def test_the_runbook_uses_the_project_commands() -> None:
    named = {shlex.split(command)[3] for command in runbook_commands()}
    assert named >= COMMANDS_RUNBOOK_NEEDS, COMMANDS_RUNBOOK_NEEDS - named


@pytest.mark.parametrize("command", sorted(set(runbook_commands())))
def test_every_command_the_runbook_names_parses(command: str) -> None:
    """The whole line through the CLI's own parser: the sub-command, its arguments and its flags."""
    arguments = shlex.split(command)[3:]
    try:
        build_parser().parse_args(arguments)
    except SystemExit as refused:
        pytest.fail(f"docs/runbook.md names `{command}`, which `python -m ops` refuses (exit {refused.code})")


def test_every_rule_the_runbook_names_is_in_the_registry() -> None:
    text = RUNBOOK.read_text()
    named = set()
    for single, several in RULE_ID.findall(text):
        named |= {single} if single else set(re.findall(r"`([a-z0-9-]+)`", several))
    known = {rule.id for rule in gke.all_rules()}
    assert named and named <= known, named - known


def test_the_generated_index_is_current() -> None:
    from ops.runbook import runbook_with_index

    text = RUNBOOK.read_text()
    assert runbook_with_index(text) == text, "docs/runbook.md's index is stale: run `python -m ops.runbook --write`"


def test_every_rule_and_every_layer_has_an_entry() -> None:
    """Complete by construction and by test: every registry rule is in the index, and every layer a
    failing `verify` or `inspect` check can name points at hand-written entries that exist."""
    from livestate.model import Layer as InspectLayer
    from ops.runbook import ENTRIES, INSPECT_LAYERS, VERIFY_LAYERS
    from ops.verify.advice import Layer as VerifyLayer

    text = RUNBOOK.read_text()
    assert set(VERIFY_LAYERS) == set(VerifyLayer) and set(INSPECT_LAYERS) == set(InspectLayer)
    headings = set(re.findall(r"^## (.+)$", text, flags=re.MULTILINE))
    assert set(ENTRIES) <= headings, set(ENTRIES) - headings
    assert {e for entries in (*VERIFY_LAYERS.values(), *INSPECT_LAYERS.values()) for e in entries} <= set(ENTRIES)
    index = text.split("<!-- generated:begin", 1)[1]
    assert "[rules.md](rules.md)" in index, "the runbook's index links to the one list of the rules"
    rules = (ROOT / "docs" / "rules.md").read_text()
    assert all(f"| `{rule.id}` |" in rules for rule in gke.all_rules())
