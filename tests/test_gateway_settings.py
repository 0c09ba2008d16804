"""frontDoors and the gateway block: each refusal is one line naming its key and the fix, valid input
passes, and the default ([ingress]) is what every stack had."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coditect.app import stack_context
from coditect.settings import Settings, SettingsError, parse_settings
from coditect.settings.front_door import GATEWAY_NAME_MAX
from tests.conftest import stack_settings_raw

Edit = Callable[[dict[str, Any]], None]


def parsed(edit: Edit, stack: str = "prod") -> Settings:
    raw = stack_settings_raw(stack)
    edit(raw)
    return parse_settings(raw, stack)


def refusal(edit: Edit, stack: str = "prod") -> list[str]:
    """The refusal's problem lines (one per key)."""
    with pytest.raises(SettingsError) as raised:
        parsed(edit, stack)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("Invalid stack configuration")
    return lines[1:]


def gateway(**block: Any) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        raw["frontDoors"] = ["ingress", "gateway"]
        raw["gateway"] = block

    return edit


def test_default_is_the_ingress_alone_with_no_bundle_judged() -> None:
    s = parsed(lambda raw: None)
    assert s.front_doors == ("ingress",)
    assert stack_context(s).gateway_bundle is None


@pytest.mark.parametrize("doors", [["ingress"], ["ingress", "gateway"], ["gateway"], ["gateway", "ingress"]])
def test_valid_front_doors_pass(doors: list[str]) -> None:
    s = parsed(lambda raw: raw.update(frontDoors=doors, gateway={"bundleVersion": "v1.5.1"}))
    assert set(s.front_doors) == set(doors)
    assert stack_context(s).gateway_bundle == ("v1.5.1" if "gateway" in doors else None)


@pytest.mark.parametrize(
    ("doors", "fragment"),
    [
        ([], "has 0 entries; at least 1"),
        (["gateway", "gateway"], "gateway listed more than once"),
        (["nginx"], "Input should be 'ingress' or 'gateway'"),
        ("gateway", "valid tuple"),
        (["ingress", "gateway", "ingress"], "has 3 entries; at most 2"),
    ],
)
def test_bad_front_doors_are_refused_under_their_key(doors: Any, fragment: str) -> None:
    (line,) = refusal(lambda raw: raw.update(frontDoors=doors, gateway={"bundleVersion": "v1.5.1"}))
    assert line.startswith("  - coditect:frontDoors") and fragment in line and "Fix:" in line


def test_gateway_without_bundle_version_is_refused() -> None:
    (line,) = refusal(gateway())
    assert line.startswith("  - coditect:gateway.bundleVersion: is not set while frontDoors has gateway")
    assert "kubectl get crd gateways.gateway.networking.k8s.io" in line and "Fix:" in line


def test_bundle_version_is_not_required_without_the_gateway() -> None:
    assert parsed(lambda raw: raw.update(gateway={"name": "edge"})).gateway.bundle_version is None


def test_unknown_bundle_is_refused() -> None:
    (line,) = refusal(gateway(bundleVersion="v1.4.0"))
    assert "coditect:gateway.bundleVersion: Input should be 'v1.3.0' or 'v1.5.1'" in line


@pytest.mark.parametrize("code", [307, 308])
def test_307_and_308_need_bundle_v1_5_1(code: int) -> None:
    (line,) = refusal(gateway(bundleVersion="v1.3.0", redirectStatusCode=code))
    assert line.startswith(f"  - coditect:gateway.redirectStatusCode: is {code}, which the v1.3.0 HTTPRoute CRD refuses")
    assert parsed(gateway(bundleVersion="v1.5.1", redirectStatusCode=code)).gateway.redirect_status_code == code


@pytest.mark.parametrize("code", [301, 302])
def test_301_and_302_pass_with_either_bundle(code: int) -> None:
    for bundle in ("v1.3.0", "v1.5.1"):
        assert parsed(gateway(bundleVersion=bundle, redirectStatusCode=code)).gateway.redirect_status_code == code


@pytest.mark.parametrize("code", [303, 200, "301", True])
def test_other_status_codes_are_refused(code: Any) -> None:
    (line,) = refusal(gateway(bundleVersion="v1.5.1", redirectStatusCode=code))
    assert "coditect:gateway.redirectStatusCode: Input should be 301, 302, 307 or 308" in line


@pytest.mark.parametrize(
    "edit",
    [
        gateway(bundleVersion="v1.5.1", staticIpName="coditect-prod-ip"),  # the Ingress's default name
        lambda raw: (gateway(bundleVersion="v1.5.1")(raw), raw["gcp"].update(staticIp={"name": "coditect-prod-gw-ip"})),  # the Gateway's default
    ],
)
def test_the_gateway_may_not_take_the_ingress_static_ip(edit: Edit) -> None:
    (line,) = refusal(edit)
    assert line.startswith("  - coditect:gateway.staticIpName: is ") and "the Ingress's static IP" in line


def test_distinct_static_ip_names_pass() -> None:
    s = parsed(gateway(bundleVersion="v1.5.1", staticIpName="edge-ip"))
    assert s.gateway.static_ip_name == "edge-ip"


def test_gateway_needs_tls_and_the_https_redirect() -> None:
    def no_tls(raw: dict[str, Any]) -> None:
        gateway(bundleVersion="v1.5.1")(raw)
        raw["environment"] = "staging"  # prod refuses TLS off on its own
        raw["gcp"]["tls"] = {"enabled": False, "redirectToHttps": False}

    assert any(line.startswith("  - coditect:gcp.tls.enabled: is false while frontDoors has gateway") for line in refusal(no_tls))

    def no_redirect(raw: dict[str, Any]) -> None:
        gateway(bundleVersion="v1.5.1")(raw)
        raw["gcp"]["tls"] = {"redirectToHttps": False}

    lines = refusal(no_redirect, "staging")
    assert [line.split(":")[1] for line in lines] == ["gcp.tls.redirectToHttps"]


@pytest.mark.parametrize("doors", [["gateway"], ["ingress", "gateway"]])
def test_gateway_refuses_http_off_under_the_key(doors: list[str]) -> None:
    """The Gateway always declares its HTTP listener on port 80 (for the redirect route): allowHttp false cannot be
    honoured, so it is refused under its key with either set of doors, not ignored with [gateway]."""

    def http_off(raw: dict[str, Any]) -> None:
        raw.update(frontDoors=doors, gateway={"bundleVersion": "v1.5.1"})
        raw["gcp"]["tls"] = {"allowHttp": False}

    (line,) = refusal(http_off)
    assert line.startswith("  - coditect:gcp.tls.allowHttp: is false while frontDoors has gateway") and "port 80" in line and "set it true" in line


@pytest.mark.parametrize("doors", [["gateway"], ["ingress", "gateway"]])
def test_gateway_passes_with_http_on(doors: list[str]) -> None:
    def http_on(raw: dict[str, Any]) -> None:
        raw.update(frontDoors=doors, gateway={"bundleVersion": "v1.5.1"})
        raw["gcp"]["tls"] = {"allowHttp": True}

    s = parsed(http_on)
    assert s.gcp.tls.allow_http is True


def test_http_off_is_left_to_the_ingress_rule_without_the_gateway() -> None:
    """With [ingress] the settings accept it: frontendconfig-redirect-needs-http judges the Ingress's annotation (test_gcp.py)."""
    s = parsed(lambda raw: raw["gcp"].update(tls={"allowHttp": False}))
    assert s.gcp.tls.allow_http is False


def test_gateway_name_leaves_room_for_its_routes() -> None:
    assert parsed(gateway(bundleVersion="v1.5.1", name="g" * GATEWAY_NAME_MAX)).gateway.name == "g" * GATEWAY_NAME_MAX
    (line,) = refusal(gateway(bundleVersion="v1.5.1", name="g" * (GATEWAY_NAME_MAX + 1)))
    assert "coditect:gateway.name" in line and f"{GATEWAY_NAME_MAX + 1} characters" in line and "-redirect" in line


def test_unknown_gateway_key_is_a_typo() -> None:
    (line,) = refusal(gateway(bundleVersion="v1.5.1", bundle="v1.5.1"))
    assert "coditect:gateway.bundle: is not a known setting (typo?)" in line


@settings(max_examples=40, deadline=None)
@given(
    doors=st.lists(st.sampled_from(["ingress", "gateway"]), min_size=1, max_size=2, unique=True),
    bundle=st.sampled_from([None, "v1.3.0", "v1.5.1"]),
    code=st.sampled_from([301, 302, 307, 308]),
)
def test_every_combination_is_accepted_exactly_when_no_rule_refuses_it(doors: list[str], bundle: str | None, code: int) -> None:
    block: dict[str, Any] = {"redirectStatusCode": code, **({"bundleVersion": bundle} if bundle else {})}
    raw = stack_settings_raw("prod")
    raw.update(frontDoors=doors, gateway=block)
    with_gateway = "gateway" in doors
    expected = set()
    if with_gateway and bundle is None:
        expected.add("gateway.bundleVersion")
    if with_gateway and bundle == "v1.3.0" and code in (307, 308):
        expected.add("gateway.redirectStatusCode")
    try:
        parse_settings(raw, "prod")
        refused: set[str] = set()
    except SettingsError as error:
        refused = set(re.findall(r"coditect:([\w.]+):", str(error)))
    assert refused == expected
