"""Every constrained setting string is one type (coditect.settings pattern_string): judged whole, ASCII
where the grammar is ASCII, bounded in length, and every list bounded in entries with the reason.

The property-based tests walk the settings model (``constrained_settings``), so a setting added later
with a grammar is generated here without a change; a plain ``str`` setting fails
``test_every_string_setting_has_a_grammar``. The regressions are the examples of issue 19, class 9."""

from __future__ import annotations

import copy
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from coditect.settings import Grammar, Settings, SettingsError, constrained_settings, parse_settings
from coditect.target import read_target
from ops import stack_files
from ops.errors import StackFileError
from tests.conftest import stack_settings_raw

PROD = stack_settings_raw("prod")
BUDGET = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONSTRAINED = {key: (grammar, is_list) for key, grammar, is_list, _ in constrained_settings(Settings)}
PROD_VALUES = parse_settings(PROD, "prod").model_dump(by_alias=True)


def at(raw: dict[str, Any], key: str) -> Any:
    node: Any = raw
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def with_value(key: str, value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(PROD)
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return raw


def valid_value(key: str) -> str:
    """What prod holds at `key` (valid in its context), else the grammar's example."""
    grammar, is_list = CONSTRAINED[key]
    held = at(PROD_VALUES, key)
    if is_list:
        held = held[0] if held else None
    return held if isinstance(held, str) else grammar.example


def placed(key: str, value: str) -> dict[str, Any]:
    return with_value(key, [value] if CONSTRAINED[key][1] else value)


def outcome(raw: dict[str, Any]) -> Settings | str:
    try:
        return parse_settings(raw, "prod")
    except SettingsError as error:
        return str(error)


def named(key: str) -> str:
    return f"coditect:{key}[0]: " if CONSTRAINED[key][1] else f"coditect:{key}: "


# Characters that look like the ASCII ones a grammar allows (Cyrillic, fullwidth, Arabic-Indic digits,
# the hyphen and the ideographic full stop).
LOOKALIKES = {
    "a": "а",
    "c": "с",
    "e": "е",
    "o": "о",
    "p": "р",
    "x": "х",
    "i": "і",
    "0": "０",
    "1": "١",
    "2": "２",
    ".": "。",
    "-": "‐",
    "/": "∕",
    "s": "ѕ",
    "t": "т",
}
SUFFIXES = ["\n", "\r\n", "\n\n", " ", "\t", "\x00", "\u200b", "\u00a0"]


def test_the_walk_finds_every_constrained_setting() -> None:
    expected = {
        "namespace",
        "hosts",
        "release.version",
        "release.images.ide",
        "deployment.healthPath",
        "service.portName",
        "deployment.resources.ide.cpuLimit",
        "socketio.path",
        "gcp.staticIp.name",
        "gcp.cloudArmor.wafRules",
        "gcp.monitoring.notificationChannels",
        "cluster.context",
        "containment.clusterRanges",
    }
    assert expected <= set(CONSTRAINED), expected - set(CONSTRAINED)


def _plain_strings(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Keys whose type holds a str that no Grammar constrains."""
    found = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _plain_strings(annotation, f"{key}.")
        elif key not in CONSTRAINED and _holds_str(annotation):
            found.append(key)
    return found


def _holds_str(annotation: Any) -> bool:
    if annotation is str:
        return True
    if get_origin(annotation) is Literal:
        return False
    return any(_holds_str(arg) for arg in get_args(annotation))


def test_every_string_setting_has_a_grammar() -> None:
    """A new free-text setting would accept a final newline again: it must be a pattern_string."""
    assert _plain_strings(Settings) == []


@pytest.mark.parametrize("key", sorted(CONSTRAINED))
def test_the_value_prod_holds_passes(key: str) -> None:
    assert isinstance(outcome(placed(key, valid_value(key))), Settings)


@pytest.mark.parametrize("key", sorted(CONSTRAINED))
@BUDGET
@given(data=st.data())
def test_a_value_with_trailing_text_a_lookalike_or_too_long_is_refused_under_its_key(key: str, data: st.DataObject) -> None:
    grammar, _ = CONSTRAINED[key]
    value = valid_value(key)
    kind = data.draw(st.sampled_from(["suffix", "prefix", "lookalike", "long"]))
    if kind == "suffix":
        bad = value + data.draw(st.sampled_from(SUFFIXES))
    elif kind == "prefix":
        bad = data.draw(st.sampled_from(SUFFIXES)) + value
    elif kind == "lookalike":
        positions = [i for i, char in enumerate(value) if char.lower() in LOOKALIKES]
        if not positions:
            return
        i = data.draw(st.sampled_from(positions))
        bad = value[:i] + LOOKALIKES[value[i].lower()] + value[i + 1 :]
    else:
        bad = value + "a" * data.draw(st.integers(min_value=grammar.max_length - len(value) + 1, max_value=grammar.max_length * 4))
    result = outcome(placed(key, bad))
    assert isinstance(result, str) and named(key) in result, (bad, result)
    assert "Traceback" not in result and len(result) < 2_000


@pytest.mark.parametrize("key", sorted(CONSTRAINED))
@BUDGET
@given(text=st.text(max_size=80) | st.text(alphabet=st.characters(codec="ascii"), max_size=300))
def test_what_a_grammar_accepts_is_ascii_bounded_and_trimmed(key: str, text: str) -> None:
    grammar: Grammar = CONSTRAINED[key][0]
    if grammar.problem(text) is None:
        assert text.isascii() and text == text.strip() and grammar.min_length <= len(text) <= grammar.max_length
        assert grammar.pattern.fullmatch(text)


# --- the examples of issue 19, class 9 --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("hosts", ["coditect.ai\n"], "coditect:hosts[0]: 'coditect.ai\\n' has leading or trailing whitespace"),
        ("gcp.cloudArmor.wafRules", ["sqli-v33-stable\n"], "coditect:gcp.cloudArmor.wafRules[0]: 'sqli-v33-stable\\n' has leading"),
        ("gcp.monitoring.notificationChannels", ["projects/p/notificationChannels/1\n"], "notificationChannels[0]: 'projects/p/"),
        ("release.images.ide", "r.example/theia:v1\n", "coditect:release.images.ide: 'r.example/theia:v1\\n' has leading"),
        ("release.images.ide", "r.example/theia:v1é", "coditect:release.images.ide: 'r.example/theia:v1é' is not an image reference"),
        ("release.version", "1.0-", "coditect:release.version: '1.0-' is not a Kubernetes label value"),
        ("release.version", "-1.0", "is not a Kubernetes label value"),
        ("release.version", "1.0_", "is not a Kubernetes label value"),
        ("release.version", "1.0+build", "is not a Kubernetes label value"),
        ("release.version", "1" * 64, "it has 64 characters, and 1 to 63 are allowed (a label value has at most 63 characters)"),
        ("release.version", "", "it has 0 characters"),
        ("containment.clusterRanges", ["0.0.0.0/0"], "coditect:containment.clusterRanges[0]: 0.0.0.0/0 covers every address"),
        ("containment.clusterRanges", ["::/0"], "::/0 covers every address"),
        ("containment.clusterRanges", ["10.0.0.0/08"], "is not in canonical form; write 10.0.0.0/8"),
        ("containment.clusterRanges", ["10.0.0.1/8"], "is not a CIDR range (10.0.0.1/8 has host bits set)"),
        ("gcp.cloudArmor.wafRules", ["a" * 40 + "-v33-stable"], "has at most 64"),
    ],
)
def test_each_example_is_refused_with_its_key(key: str, value: Any, expected: str) -> None:
    result = outcome(with_value(key, value))
    assert isinstance(result, str) and expected in result, result


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("release.version", "1.10"),
        ("release.version", "v1.4.2-rc.1"),
        ("release.version", "2024_05_01"),
        ("release.version", "a" * 63),
        ("containment.clusterRanges", ["0.0.0.0/1", "128.0.0.0/1"]),
        ("containment.clusterRanges", ["10.0.0.0/14", "34.118.224.0/20"]),
        ("containment.clusterRanges", ["fd00::/8"]),
    ],
)
def test_the_valid_neighbours_pass(key: str, value: Any) -> None:
    assert isinstance(outcome(with_value(key, value)), Settings)


def test_a_range_the_api_refuses_as_an_except_is_refused_with_the_reason() -> None:
    message = outcome(with_value("containment.clusterRanges", ["0.0.0.0/0"]))
    assert isinstance(message, str)
    assert "the API refuses an except that is not a strict subset of its cidr" in message
    assert "list the cluster's pod, service, node and control-plane ranges" in message


HOSTS = [f"h{i}.coditect.ai" for i in range(10_000)]


def test_ten_thousand_hosts_are_refused_in_one_line_naming_the_limit() -> None:
    message = outcome(with_value("hosts", HOSTS))
    assert isinstance(message, str) and "alias" not in message
    assert "coditect:hosts: has 10000 entries; at most 100 (a ManagedCertificate holds at most 100 domains)" in message
    assert len(message.splitlines()) == 2


def test_a_hundred_hosts_pass() -> None:
    assert isinstance(outcome(with_value("hosts", HOSTS[:100])), Settings)


def test_ten_thousand_hosts_in_a_stack_file_are_refused_as_too_many_values_not_aliases() -> None:
    text = "config:\n  coditect:hosts:\n" + "".join(f"    - {host}\n" for host in HOSTS)
    with pytest.raises(StackFileError) as raised:
        stack_files.parse(text, "Pulumi.prod.yaml")
    message = str(raised.value)
    assert "alias" not in message and f"more than {stack_files.MAX_VALUES} values" in message and "Fix: shorten coditect:hosts" in message
    aliased = "config:\n  coditect:a: &x [" + ", ".join(["1"] * 200) + "]\n" + "".join(f"  coditect:b{i}: *x\n" for i in range(60))
    with pytest.raises(StackFileError, match="YAML aliases multiply"):
        stack_files.parse(aliased, "Pulumi.prod.yaml")


@pytest.mark.parametrize(
    ("key", "item", "most"),
    [
        ("gcp.monitoring.notificationChannels", "projects/coditect-prod/notificationChannels/{}", 16),
        ("gcp.cloudArmor.wafRules", "r{}-v33-stable", 20),
        ("containment.clusterRanges", "10.{}.0.0/16", 64),
        ("containment.internetPorts", "{}", 64),
    ],
)
def test_each_list_is_bounded_with_its_reason(key: str, item: str, most: int) -> None:
    def entries(n: int) -> list[Any]:
        return [int(item.format(1000 + i)) if item == "{}" else item.format(i) for i in range(n)]

    assert isinstance(outcome(with_value(key, entries(most))), Settings)
    message = outcome(with_value(key, entries(most + 1)))
    assert isinstance(message, str) and f"coditect:{key}: has {most + 1} entries; at most {most} (" in message


def test_gcp_project_with_a_final_newline_is_refused() -> None:
    settings_ = parse_settings(PROD, "prod")
    with pytest.raises(SettingsError, match="gcp:project: 'coditect-prod\\\\n' is not a Google Cloud project id"):
        read_target(settings_, {"gcp:project": "coditect-prod\n"}, "prod")
    assert read_target(settings_, {"gcp:project": "coditect-prod"}, "prod").project == "coditect-prod"


@pytest.mark.parametrize(("key", "value"), [("hosts", "coditect.ai"), ("gcp.cloudArmor.wafRules", "sqli-v33-stable")])
def test_a_repeated_entry_is_refused_and_distinct_ones_pass(key: str, value: str) -> None:
    """A property of the list: the Ingress merges a repeated host into one rule, so no GKE rule could see it."""
    message = outcome(with_value(key, [value, value]))
    assert isinstance(message, str) and f"coditect:{key}: {value} listed more than once" in message
    other = "www.coditect.ai" if key == "hosts" else "xss-v33-stable"
    assert isinstance(outcome(with_value(key, [value, other])), Settings)


def test_the_json_schema_states_every_bound() -> None:
    """settings.md is generated from the schema: the grammar, the lengths and the entry bounds appear in it."""
    schema = Settings.model_json_schema()
    hosts = schema["properties"]["hosts"]
    assert (hosts["maxItems"], hosts["minItems"], hosts["uniqueItems"]) == (100, 1, True)
    assert hosts["items"]["maxLength"] == 253 and hosts["items"]["pattern"].startswith("^(?:")
    version = schema["$defs"]["Release"]["properties"]["version"]
    assert version["maxLength"] == 63 and version["examples"] == ["1.4.2"]
