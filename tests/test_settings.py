"""Stack settings: production defaults, and errors that name the key, the allowed range and the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from coditect.app import StackRefused, build_app
from coditect.settings import Settings, SettingsError, parse_settings, raw_config
from coditect.target import Target
from ops.program import ProgramRun, run_program
from tests.conftest import engine_config, stack_settings_raw

RELEASE = {
    "version": "1.0.0",
    "images": {"nginx": "r/nginx@sha256:" + "a" * 64, "ide": "r/theia@sha256:" + "b" * 64},
}

RunComponents = Callable[..., ProgramRun]
RunWith = Callable[..., ProgramRun]


def error_for(raw: dict[str, Any], stack: str = "prod") -> str:
    with pytest.raises(SettingsError) as raised:
        parse_settings(raw, stack)
    return str(raised.value)


CLUSTER = {
    "context": "gke_coditect-prod_us-central1_coditect-prod",
    "preconditions": {"networkPolicy": "dataplane-v2", "workloadIdentity": True, "sandboxNodePool": True},
}
CHANNELS = {"monitoring": {"notificationChannels": ["projects/p/notificationChannels/1"]}}


def test_defaults_are_the_production_state() -> None:
    s = Settings.model_validate(
        {"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "hosts": ["coditect.ai"], "gcp": CHANNELS, "containment": {"sandbox": True}}
    )
    assert s.namespace == "coditect-app"
    assert s.deployment.name == "coditect-combined"
    assert s.service.name == "coditect-combined-service"
    assert s.hosts == ("coditect.ai",)
    assert s.socketio.path == "/theia/socket.io/"
    bc = s.backend_config
    assert (bc.session_affinity, bc.affinity_cookie_ttl_sec, bc.timeout_sec) == ("CLIENT_IP", 86400, 86400)
    assert s.gcp.tls.enabled and s.gcp.tls.redirect_to_https and s.gcp.cloud_armor.enabled and s.gcp.monitoring.enabled


def test_out_of_range_value_names_key_range_and_fix() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "backendConfig": {"timeoutSec": 90000}})
    assert "coditect:backendConfig.timeoutSec" in message
    assert "less than or equal to 86400" in message and "(got 90000)" in message
    assert "Fix: pulumi config set --path 'coditect:backendConfig.timeoutSec' <value>" in message
    assert "Pulumi.prod.yaml" in message


def test_draining_above_one_hour_is_refused() -> None:
    message = error_for({"environment": "dev", "release": RELEASE, "cluster": CLUSTER, "backendConfig": {"drainingTimeoutSec": 86400}}, "dev")
    assert "coditect:backendConfig.drainingTimeoutSec" in message and "less than or equal to 3600" in message


def test_unknown_key_is_an_error_not_ignored() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "backendConfig": {"websocketMaxIdleTimeout": 3600}})
    assert "coditect:backendConfig.websocketMaxIdleTimeout: is not a known setting" in message


def test_unknown_top_level_key() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "replica": 3})
    assert "coditect:replica: is not a known setting" in message
    assert "pulumi config rm --path 'coditect:replica'" in message


def test_missing_release_is_required() -> None:
    message = error_for({"environment": "prod"})
    assert "coditect:release: is required but not set" in message


def test_every_problem_is_listed_at_once() -> None:
    message = error_for({"environment": "qa", "release": RELEASE, "cluster": CLUSTER, "service": {"port": 0}})
    assert "coditect:environment" in message and "'dev', 'staging' or 'prod'" in message
    assert "coditect:service.port" in message and "greater than or equal to 1" in message


def test_affinity_type_outside_gke_set() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "backendConfig": {"sessionAffinity": "COOKIE"}})
    assert "coditect:backendConfig.sessionAffinity" in message and "'NONE', 'CLIENT_IP' or 'GENERATED_COOKIE'" in message


def test_prod_requires_two_replicas() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "hosts": ["coditect.ai"], "deployment": {"replicas": 1}})
    assert "coditect:deployment.replicas: is 1; prod needs at least 2 replicas" in message


def test_hosts_have_no_default() -> None:
    """No stack inherits production's domain by forgetting its own."""
    assert "coditect:hosts: is required but not set" in error_for({"environment": "dev", "release": RELEASE, "cluster": CLUSTER})


def test_duplicate_and_malformed_hosts() -> None:
    assert "coditect.ai listed more than once" in error_for(
        {"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "hosts": ["coditect.ai", "coditect.ai"]}
    )
    assert "'https://coditect.ai' is not a lower-case DNS name" in error_for(
        {"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "hosts": ["https://coditect.ai"]}
    )


def test_uid_must_be_high() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "cluster": CLUSTER, "deployment": {"runAsUser": 101}})
    assert "coditect:deployment.runAsUser" in message and "greater than or equal to 10000" in message


def test_program_reads_stack_config_and_reports_errors_without_traceback() -> None:
    raw = stack_settings_raw("prod")
    raw["backendConfig"]["timeoutSec"] = 90000
    with pytest.raises(SettingsError) as raised:
        run_program("prod", config=engine_config(raw))
    assert str(raised.value).startswith("Invalid stack configuration (Pulumi.prod.yaml):")
    assert "Traceback" not in str(raised.value)


def test_config_values_arrive_as_engine_text_and_are_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the CLI, objects come as JSON text and scalars as text (PULUMI_CONFIG)."""
    import json

    import pulumi.runtime

    pulumi.runtime.set_all_config({})
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps(
            {
                "coditect:environment": "dev",
                "coditect:release": json.dumps(RELEASE),
                "coditect:cluster": json.dumps(CLUSTER),
                "other:key": "x",
                "coditect:hosts": json.dumps(["dev.coditect.ai"]),
                "coditect:deployment": json.dumps({"replicas": 2}),
            }
        ),
    )
    raw = raw_config()
    assert raw == {"environment": "dev", "release": RELEASE, "cluster": CLUSTER, "hosts": ["dev.coditect.ai"], "deployment": {"replicas": 2}}
    assert parse_settings(raw, "dev").deployment.replicas == 2


# --- settings that are valid on their own but make GKE break ----------------------------------------
# The GKE rules own these checks (policy/gke); the program runs them once over the whole stack before
# declaring anything and reports each finding under the setting that causes it.


def refused_by_program(stack: str, edit: Callable[[dict[str, Any]], None]) -> str:
    raw = stack_settings_raw(stack)
    edit(raw)
    parse_settings(raw, stack)  # valid as configuration: the GKE rules refuse it, not the settings model
    with pytest.raises(StackRefused) as raised:
        run_program(stack, config=engine_config(raw))
    return str(raised.value)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(raw: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value

    return edit


@pytest.mark.parametrize(
    ("stack", "path", "value", "expected"),
    [
        (
            "prod",
            "release.images.nginx",
            "nginx:1.27",
            "coditect:release.images.nginx: [image-digest] Deployment coditect-app/coditect-combined: container 'nginx' image 'nginx:1.27' is not pinned by digest",
        ),
        (
            "dev",
            "backendConfig.sessionAffinity",
            "NONE",
            "coditect:backendConfig.sessionAffinity: [backendconfig-affinity-replicas] BackendConfig coditect-dev/coditect-backend-config: has session affinity NONE",
        ),
        (
            "prod",
            "backendConfig.timeoutSec",
            600,
            "coditect:backendConfig.timeoutSec: [backendconfig-websocket-timeout] BackendConfig coditect-app/coditect-backend-config: spec.timeoutSec 600 s is shorter than the minimum WebSocket session of 3600 s",
        ),
        (
            "prod",
            "backendConfig.healthCheck.timeoutSec",
            20,
            "coditect:backendConfig.healthCheck.timeoutSec: [backendconfig-health-check-timeout] BackendConfig coditect-app/coditect-backend-config: spec.healthCheck.timeoutSec 20 is longer than checkIntervalSec 15",
        ),
    ],
)
def test_gke_rules_refuse_settings_under_their_config_key(stack: str, path: str, value: Any, expected: str) -> None:
    message = refused_by_program(stack, _set(path, value))
    assert expected in message, message
    full_key = expected.split(": ", 1)[0]
    assert f"Change it with: pulumi config set --path '{full_key}' <value>" in message


def test_tag_images_pass_outside_prod_and_only_the_unpinned_container_is_named() -> None:
    message = refused_by_program("prod", _set("release.images.nginx", "nginx:1.27"))
    assert "coditect:release.images.ide" not in message
    raw = stack_settings_raw("dev")
    raw["release"]["images"]["nginx"] = "nginx:1.27"
    assert run_program("dev", config=engine_config(raw)).of_type("kubernetes:apps/v1:Deployment")


def test_one_replica_without_affinity_is_fine() -> None:
    raw = stack_settings_raw("dev")
    raw["backendConfig"] = {**raw.get("backendConfig", {}), "sessionAffinity": "NONE"}
    raw["deployment"] = {**raw.get("deployment", {}), "replicas": 1, "minAvailable": 0}
    assert run_program("dev", config=engine_config(raw)).of_type("kubernetes:apps/v1:Deployment")


def test_autoscaling_without_affinity_is_refused_by_the_autoscalers_maximum() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["backendConfig"] = {**raw.get("backendConfig", {}), "sessionAffinity": "NONE"}
        raw["autoscaling"] = {"enabled": True, "minReplicas": 1, "maxReplicas": 3}
        raw["deployment"] = {**raw.get("deployment", {}), "minAvailable": 0}

    assert "is scaled by HorizontalPodAutoscaler coditect-dev/coditect-combined up to 3 replicas" in refused_by_program("dev", edit)


def test_a_refused_stack_declares_no_resource(run_components: RunComponents) -> None:
    """Judged before anything is registered: `pulumi up` creates nothing of a refused stack."""
    raw = stack_settings_raw("prod")
    raw["backendConfig"]["timeoutSec"] = 600
    refusals: list[StackRefused] = []

    def program() -> None:
        try:
            build_app(parse_settings(raw, "prod"), Target("prod", "coditect-prod", "gke_coditect-prod_us-central1_coditect-prod"))
        except StackRefused as error:
            refusals.append(error)

    run = run_components(program, stack="prod")
    # The Kubernetes provider is registered first (the components are built on it); it creates nothing.
    assert refusals and [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")] == []


def test_shutdown_covers_draining_under_both_keys() -> None:
    """SIGTERM after the draining window (preStop) and the kill after that (grace period)."""

    def edit(raw: dict[str, Any]) -> None:
        _set("backendConfig.drainingTimeoutSec", 300)(raw)
        _set("deployment.preStopSeconds", 100)(raw)

    message = refused_by_program("prod", edit)
    assert (
        "coditect:deployment.terminationGracePeriodSeconds: [grace-period-covers-draining] Deployment coditect-app/coditect-combined: "
        "terminationGracePeriodSeconds 120 is shorter"
    ) in message
    assert (
        "coditect:deployment.preStopSeconds: [prestop-covers-draining] Deployment coditect-app/coditect-combined: container 'nginx' "
        "of Deployment coditect-app/coditect-combined has a preStop delay of 100 s"
    ) in message


def test_pre_stop_defaults_to_the_draining_timeout() -> None:
    raw = stack_settings_raw("prod")
    assert parse_settings(raw, "prod").deployment.pre_stop_seconds == parse_settings(raw, "prod").backend_config.draining_timeout_sec == 60
    raw["backendConfig"] = {**raw.get("backendConfig", {}), "drainingTimeoutSec": 300}
    message = error_for(raw)
    assert "coditect:deployment.terminationGracePeriodSeconds: (120) must be longer than the preStop delay" in message
