"""Settings a careless or hostile user might write: every one is refused when the settings are read,
naming the key, never a traceback and never a render that passes. Property-based tests generate
values of each class; the regressions are the examples that once passed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coditect.gke.manifest import parse_image
from coditect.settings import Settings, SettingsError, parse_settings
from tests.conftest import stack_settings_raw

PROD = stack_settings_raw("prod")
BUDGET = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def with_value(path: str, value: Any, stack_raw: dict[str, Any] = PROD) -> dict[str, Any]:
    raw = copy.deepcopy(stack_raw)
    *parents, leaf = path.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return raw


def refusal(raw: dict[str, Any], stack: str = "prod") -> str:
    with pytest.raises(SettingsError) as raised:
        parse_settings(raw, stack)
    return str(raised.value)


def outcome(raw: dict[str, Any]) -> Settings | str:
    """The settings, or the refusal's text: nothing else may come out."""
    try:
        return parse_settings(raw, "prod")
    except SettingsError as error:
        return str(error)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("autoscaling", {"enabled": True, "minReplicas": 1, "maxReplicas": 4}, "coditect:autoscaling.minReplicas: is 1; prod needs at least 2 pods"),
        ("release.images.nginx", "NOT A REPO@sha256:" + "Z" * 64, "coditect:release.images.nginx: 'NOT A REPO@sha256:ZZZZ"),
        ("release.images.ide", "r/theia@sha256:" + "A" * 64, "is not an image reference"),
        ("gcp.cloudArmor.wafRules", [], "coditect:gcp.cloudArmor.wafRules: is empty with Cloud Armor on"),
        (
            "gcp.cloudArmor.wafRules",
            ["sqli-v33-stable', {}) || true || evaluatePreconfiguredWaf('xss-v33-stable"],
            "is not a Google preconfigured WAF rule set name",
        ),
        ("namespace", "kube-system", "coditect:namespace: is 'kube-system', a namespace Kubernetes itself uses"),
        ("namespace", "default", "coditect:namespace: is 'default', a namespace Kubernetes itself uses"),
        ("deployment.minAvailable", 3, "coditect:deployment.minAvailable: is 3 with as few as 3 pod(s)"),
        ("deployment.resources", {"ide": {"cpuRequest": "4", "cpuLimit": "2"}}, "coditect:deployment.resources.ide.cpuRequest: (4) is above cpuLimit (2)"),
        (
            "deployment.resources",
            {"nginx": {"memoryRequest": "1Gi", "memoryLimit": "512Mi"}},
            "coditect:deployment.resources.nginx.memoryRequest: (1Gi) is above memoryLimit (512Mi)",
        ),
        ("hosts", ["a" * 64 + ".coditect.ai"], "is not a lower-case DNS name"),
        ("hosts", ["Coditect.AI"], "is not a lower-case DNS name"),
        ("hosts", ["https://coditect.ai"], "is not a lower-case DNS name"),
        ("deployment.replicas", True, "coditect:deployment.replicas: Input should be a valid integer (got True)"),
        ("backendConfig.timeoutSec", 86400.5, "coditect:backendConfig.timeoutSec: Input should be a valid integer"),
        ("gcp.tls.enabled", "yes", "coditect:gcp.tls.enabled: Input should be a valid boolean"),
        ("release.version", 1.1, "coditect:release.version: is 1.1, not text: YAML reads 1.10 as the number 1.1"),
        ("backendConfig.logging", {"sampleRate": True}, "is a boolean (true), not a number"),
    ],
)
def test_each_example_is_refused_with_its_key(path: str, value: Any, expected: str) -> None:
    assert expected in refusal(with_value(path, value))


def test_a_huge_value_is_not_echoed_in_full() -> None:
    message = refusal(with_value("namespace", "x" * 10_000_000))
    assert len(message) < 2_000 and "characters)" in message


def test_valid_neighbours_still_pass() -> None:
    """The same settings, right: a tag outside prod, a fraction as text (pulumi config set --path stores it so)."""
    dev = stack_settings_raw("dev")
    assert parse_settings(with_value("release.images.nginx", "nginx:1.27", dev), "dev").release.images.nginx == "nginx:1.27"
    assert parse_settings(with_value("backendConfig.logging", {"sampleRate": "0.5"}), "prod").backend_config.logging.sample_rate == 0.5
    assert parse_settings(with_value("release.version", "1.10"), "prod").release.version == "1.10"
    assert parse_settings(with_value("deployment.resources", {"ide": {"cpuRequest": "1500m", "cpuLimit": "2"}}), "prod")


INT_KEYS = [
    "deployment.replicas",
    "deployment.servingPort",
    "deployment.terminationGracePeriodSeconds",
    "backendConfig.timeoutSec",
    "backendConfig.drainingTimeoutSec",
    "backendConfig.healthCheck.checkIntervalSec",
    "gcp.monitoring.failuresBeforeAlert",
]
ANY_VALUE = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=30),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@BUDGET
@given(key=st.sampled_from(INT_KEYS), value=ANY_VALUE)
def test_a_whole_number_setting_takes_whole_numbers_only(key: str, value: Any) -> None:
    result = outcome(with_value(key, value))
    if isinstance(result, Settings):
        assert isinstance(value, int) and not isinstance(value, bool)
    else:
        assert f"coditect:{key}" in result or "coditect:" in result


@BUDGET
@given(image=st.text(min_size=0, max_size=90))
def test_an_image_is_a_reference_or_refused(image: str) -> None:
    """Settings refuse what is not an image reference; whether prod has a digest is the image-digest
    rule's (policy/config/prod.json), run before anything is declared (tests/test_settings.py)."""
    result = outcome(with_value("release.images.ide", image))
    if isinstance(result, str):
        assert "coditect:release.images.ide" in result
    else:
        assert parse_image(image) is not None


@BUDGET
@given(host=st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_a_host_is_a_dns_name_or_refused(host: str) -> None:
    result = outcome(with_value("hosts", [host]))
    if isinstance(result, Settings):
        assert all(0 < len(label) <= 63 for label in host.split(".")) and host == host.lower() and host.isascii()
    else:
        assert "coditect:hosts" in result


@BUDGET
@given(quantities=st.tuples(*[st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,2})?(m|Ki|Mi|Gi|k|M|G)?\Z", fullmatch=True)] * 2))
def test_a_request_never_exceeds_its_limit(quantities: tuple[str, str]) -> None:
    request, limit = quantities
    result = outcome(with_value("deployment.resources", {"ide": {"memoryRequest": request, "memoryLimit": limit, "cpuRequest": "100m", "cpuLimit": "1"}}))
    from coditect.settings import quantity

    if quantity(request) > quantity(limit):
        assert isinstance(result, str) and "memoryRequest" in result
    else:
        assert isinstance(result, Settings), result


@BUDGET
@given(
    namespace=st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z", fullmatch=True)
    | st.sampled_from(["default", "kube-system", "kube-public", "kube-node-lease"])
)
def test_the_app_never_lands_in_a_system_namespace(namespace: str) -> None:
    result = outcome(with_value("namespace", namespace))
    assert isinstance(result, Settings) != (namespace in {"default", "kube-system", "kube-public", "kube-node-lease"})


# A final newline: `re.match(...$)` accepted it (`$` also matches before a last "\n"); every such setting
# is now judged with fullmatch, and a tag's `\w` is ASCII as the image grammar's is.
NEWLINE_CASES = {
    "hosts": lambda v: with_value("hosts", [v]),
    "gcp.cloudArmor.wafRules": lambda v: with_value("gcp.cloudArmor.wafRules", [v]),
    "gcp.monitoring.notificationChannels": lambda v: with_value("gcp.monitoring.notificationChannels", [v]),
    "release.images.ide": lambda v: with_value("release.images.ide", v),
}
VALID = {
    "hosts": "coditect.ai",
    "gcp.cloudArmor.wafRules": "sqli-v33-stable",
    "gcp.monitoring.notificationChannels": "projects/coditect-prod/notificationChannels/42",
    "release.images.ide": "us-docker.pkg.dev/coditect/app/theia@sha256:" + "d" * 64,
}


@pytest.mark.parametrize("key", sorted(NEWLINE_CASES))
def test_a_value_with_a_final_newline_is_refused_and_the_clean_one_passes(key: str) -> None:
    assert isinstance(outcome(NEWLINE_CASES[key](VALID[key])), Settings)
    assert key.split(".")[-1] in refusal(NEWLINE_CASES[key](VALID[key] + "\n"))


@BUDGET
@given(suffix=st.sampled_from(["\n", "\r\n", "\n\n", " ", "\t"]), key=st.sampled_from(sorted(NEWLINE_CASES)))
def test_trailing_whitespace_never_passes(suffix: str, key: str) -> None:
    assert isinstance(outcome(NEWLINE_CASES[key](VALID[key] + suffix)), str)


def test_an_image_tag_is_ascii() -> None:
    assert parse_image("registry.example/app:v1") is not None
    assert parse_image("registry.example/app:v1é") is None
    assert parse_image("registry.example/app:v1\n") is None
