"""Stack settings: production defaults, and errors that name the key, the allowed range and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from components.settings import Settings, SettingsError, parse_settings, raw_config
from ops.program import run_program
from tests.conftest import engine_config, stack_settings_raw

RELEASE = {
    "version": "1.0.0",
    "images": {"nginx": "r/nginx@sha256:" + "a" * 64, "ide": "r/theia@sha256:" + "b" * 64},
}


def error_for(raw: dict[str, Any], stack: str = "prod") -> str:
    with pytest.raises(SettingsError) as raised:
        parse_settings(raw, stack)
    return str(raised.value)


CHANNELS = {"monitoring": {"notificationChannels": ["projects/p/notificationChannels/1"]}}


def test_defaults_are_the_production_state() -> None:
    s = Settings.model_validate({"environment": "prod", "release": RELEASE, "gcp": CHANNELS})
    assert s.namespace == "coditect-app"
    assert s.deployment.name == "coditect-combined"
    assert s.service.name == "coditect-combined-service"
    assert s.hosts == ("coditect.ai",)
    assert s.socketio.path == "/theia/socket.io/"
    bc = s.backend_config
    assert (bc.session_affinity, bc.affinity_cookie_ttl_sec, bc.timeout_sec) == ("CLIENT_IP", 86400, 86400)
    assert s.gcp.tls.enabled and s.gcp.tls.redirect_to_https and s.gcp.cloud_armor.enabled and s.gcp.monitoring.enabled


def test_out_of_range_value_names_key_range_and_fix() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "backendConfig": {"timeoutSec": 90000}})
    assert "coditect:backendConfig.timeoutSec" in message
    assert "less than or equal to 86400" in message and "(got 90000)" in message
    assert "Fix: pulumi config set --path 'coditect:backendConfig.timeoutSec' <value>" in message
    assert "Pulumi.prod.yaml" in message


def test_draining_above_one_hour_is_refused() -> None:
    message = error_for({"environment": "dev", "release": RELEASE, "backendConfig": {"drainingTimeoutSec": 86400}}, "dev")
    assert "coditect:backendConfig.drainingTimeoutSec" in message and "less than or equal to 3600" in message


def test_unknown_key_is_an_error_not_ignored() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "backendConfig": {"websocketMaxIdleTimeout": 3600}})
    assert "coditect:backendConfig.websocketMaxIdleTimeout: is not a known setting" in message


def test_unknown_top_level_key() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "replica": 3})
    assert "coditect:replica: is not a known setting" in message
    assert "pulumi config rm --path 'coditect:replica'" in message


def test_missing_release_is_required() -> None:
    message = error_for({"environment": "prod"})
    assert "coditect:release: is required but not set" in message


def test_every_problem_is_listed_at_once() -> None:
    message = error_for({"environment": "qa", "release": RELEASE, "service": {"port": 0}})
    assert "coditect:environment" in message and "'dev', 'staging' or 'prod'" in message
    assert "coditect:service.port" in message and "greater than or equal to 1" in message


def test_affinity_type_outside_gke_set() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "backendConfig": {"sessionAffinity": "COOKIE"}})
    assert "coditect:backendConfig.sessionAffinity" in message and "'NONE', 'CLIENT_IP' or 'GENERATED_COOKIE'" in message


def test_prod_requires_digest_pinned_images() -> None:
    release = {"version": "1", "images": {"nginx": "nginx:1.27", "ide": RELEASE["images"]["ide"]}}
    message = error_for({"environment": "prod", "release": release})
    assert "coditect:release.images.nginx: 'nginx:1.27' is not pinned by digest; prod runs only repository@sha256:<64 hex> images" in message
    assert "coditect:release.images.ide" not in message
    assert parse_settings({"environment": "dev", "release": release}, "dev").release.images.nginx == "nginx:1.27"


def test_prod_requires_two_replicas() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "deployment": {"replicas": 1}})
    assert "coditect:deployment.replicas: is 1; prod needs at least 2 replicas" in message


def test_no_affinity_with_several_replicas() -> None:
    message = error_for({"environment": "dev", "release": RELEASE, "backendConfig": {"sessionAffinity": "NONE"}}, "dev")
    assert "coditect:backendConfig.sessionAffinity: is NONE with more than one replica" in message
    ok = parse_settings({"environment": "dev", "release": RELEASE, "deployment": {"replicas": 1},
                         "backendConfig": {"sessionAffinity": "NONE"}}, "dev")
    assert ok.backend_config.session_affinity == "NONE"


def test_timeout_below_minimum_session() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "backendConfig": {"timeoutSec": 600}})
    assert "coditect:backendConfig.timeoutSec: (600) is below socketio.minSessionSec (3600)" in message


def test_grace_period_must_cover_draining() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "deployment": {"terminationGracePeriodSeconds": 30},
                         "backendConfig": {"drainingTimeoutSec": 300}})
    assert "coditect:deployment.terminationGracePeriodSeconds: (30) is shorter than backendConfig.drainingTimeoutSec (300)" in message


def test_duplicate_and_malformed_hosts() -> None:
    assert "coditect.ai listed more than once" in error_for({"environment": "prod", "release": RELEASE, "hosts": ["coditect.ai", "coditect.ai"]})
    assert "'https://coditect.ai' is not a lower-case DNS name" in error_for({"environment": "prod", "release": RELEASE, "hosts": ["https://coditect.ai"]})


def test_health_check_timeout_above_interval() -> None:
    message = error_for({"environment": "prod", "release": RELEASE,
                         "backendConfig": {"healthCheck": {"timeoutSec": 20, "checkIntervalSec": 10}}})
    assert "healthCheck.timeoutSec (20) exceeds healthCheck.checkIntervalSec (10)" in message


def test_uid_must_be_high() -> None:
    message = error_for({"environment": "prod", "release": RELEASE, "deployment": {"runAsUser": 101}})
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
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({
        "coditect:environment": "dev", "coditect:release": json.dumps(RELEASE), "other:key": "x",
        "coditect:deployment": json.dumps({"replicas": 2}),
    }))
    raw = raw_config()
    assert raw == {"environment": "dev", "release": RELEASE, "deployment": {"replicas": 2}}
    assert parse_settings(raw, "dev").deployment.replicas == 2
