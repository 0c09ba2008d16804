"""Stack config keys read offline exactly as the Pulumi CLI reads them (pulumi/pulumi
sdk/go/common/resource/config/key.go, ParseKey): `ns:name`, the older `ns:config:name` meaning `ns:name`,
and every other key refused with one line naming it and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.__main__ import main
from ops.errors import StackFileError
from ops.program import ROOT, stack_config
from ops.stack_files import config_key


def parse_key(s: str) -> tuple[str, str] | None:
    """ParseKey's rule, ported: one colon splits namespace and name; two colons are a module member
    whose module must be `config` (tokens.ModuleMember: package:module:member); anything else fails."""
    if s.count(":") == 1:
        namespace, name = s.split(":")
        return namespace, name
    if s.count(":") == 2:
        package, module, member = s.split(":")
        if module == "config":
            return package, member
    return None


def prod_text() -> str:
    return (ROOT / "Pulumi.prod.yaml").read_text()


def test_the_old_config_module_form_is_read_as_the_plain_key() -> None:
    text = prod_text().replace("  coditect:release:", "  coditect:config:release:", 1)
    assert "coditect:config:release:" in text
    config, _ = stack_config("prod", ROOT, stack_text=text)
    assert config == stack_config("prod", ROOT)[0]
    assert "coditect:config:release" not in config


def test_a_key_without_a_namespace_is_refused_naming_it_and_the_fix() -> None:
    text = prod_text().replace("  coditect:release:", "  release:", 1)
    with pytest.raises(StackFileError) as refused:
        stack_config("prod", ROOT, stack_text=text)
    message = str(refused.value)
    assert "\n" not in message and "'release'" in message and "Fix: write it as coditect:release" in message


def test_the_command_line_refuses_an_unnamespaced_key_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text(prod_text().replace("  coditect:release:", "  release:", 1))
    code = main(["--project", str(tmp_path), "check", "prod"])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.out + captured.err
    (line,) = [x for x in captured.out.splitlines() if "config key" in x]
    assert line.endswith("config key 'release' has no namespace, and the Pulumi CLI refuses it. Fix: write it as coditect:release")


@pytest.mark.parametrize("key", ["a:b:c", "coditect:index:release", "a:b:c:d", "nocolon"])
def test_keys_the_cli_refuses_are_refused(key: str) -> None:
    with pytest.raises(StackFileError, match="Fix: write it as coditect:"):
        config_key(key, "Pulumi.prod.yaml")


@given(st.lists(st.sampled_from(["a", "b", "config", ":", "-", ".", "x"]), max_size=8).map("".join))
def test_the_offline_parse_agrees_with_parse_key(key: str) -> None:
    expected = parse_key(key)
    if expected is None:
        with pytest.raises(StackFileError):
            config_key(key, "Pulumi.prod.yaml")
    else:
        assert config_key(key, "Pulumi.prod.yaml") == f"{expected[0]}:{expected[1]}"


@given(st.text(max_size=30))
def test_the_offline_parse_agrees_with_parse_key_on_any_text(key: str) -> None:
    expected = parse_key(key)
    if expected is None:
        with pytest.raises(StackFileError):
            config_key(key, "Pulumi.prod.yaml")
    else:
        assert config_key(key, "Pulumi.prod.yaml") == f"{expected[0]}:{expected[1]}"
