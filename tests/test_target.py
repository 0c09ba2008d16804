"""Every stack is pinned to its own cluster and Google Cloud project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from coditect.settings import SettingsError, parse_settings
from coditect.target import read_target, refuse_shared_prod_target
from ops.program import ProgramRun, read_yaml, run_program, stack_config
from tests.conftest import ROOT, STACKS, copy_project, stack_settings_raw

RunWith = Callable[..., ProgramRun]


def test_every_stack_file_names_its_project_and_cluster() -> None:
    targets = {}
    for stack in STACKS:
        config = read_yaml(ROOT / f"Pulumi.{stack}.yaml")["config"]
        targets[stack] = (config["gcp:project"], config["coditect:cluster"]["context"])
    assert len({project for project, _ in targets.values()}) == len({context for _, context in targets.values()}) == len(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_is_managed_by_the_stacks_own_provider(stack: str) -> None:
    run = run_program(stack)
    [provider] = run.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == read_yaml(ROOT / f"Pulumi.{stack}.yaml")["config"]["coditect:cluster"]["context"]
    kubernetes = [r for r in run.resources if r.custom and r.type.startswith("kubernetes:")]
    assert kubernetes and all(r.provider.startswith(provider.urn) for r in kubernetes), [r.name for r in kubernetes if not r.provider]
    assert (run.exports["cluster"], run.exports["gcpProject"]) == (
        provider.inputs["context"],
        read_yaml(ROOT / f"Pulumi.{stack}.yaml")["config"]["gcp:project"],
    )


def test_a_stack_without_a_project_is_refused_with_the_key_and_the_fix() -> None:
    config, secrets = stack_config("staging")
    del config["gcp:project"]
    with pytest.raises(SettingsError) as raised:
        run_program("staging", config=config, secret_keys=secrets)
    assert "gcp:project: is required but not set" in str(raised.value)
    assert "Fix: pulumi config set gcp:project <project-id> -s staging" in str(raised.value)


def test_a_malformed_project_is_refused() -> None:
    settings = parse_settings(stack_settings_raw("dev"), "dev")
    with pytest.raises(SettingsError, match="'My Project' is not a Google Cloud project id"):
        read_target(settings, {"gcp:project": "My Project"}, "dev")


@pytest.mark.parametrize("project", ["coditect-dev\n", "coditect-dev\r\n", " coditect-dev", "coditect-dév"])
def test_a_project_id_with_anything_around_it_is_refused(project: str) -> None:
    settings = parse_settings(stack_settings_raw("dev"), "dev")
    assert read_target(settings, {"gcp:project": "coditect-dev"}, "dev").project == "coditect-dev"
    with pytest.raises(SettingsError, match="gcp:project"):
        read_target(settings, {"gcp:project": project}, "dev")


def test_a_stack_without_a_cluster_is_refused() -> None:
    raw = stack_settings_raw("dev")
    del raw["cluster"]
    with pytest.raises(SettingsError, match="coditect:cluster: is required but not set"):
        parse_settings(raw, "dev")


@pytest.mark.parametrize(
    ("key", "fragment"), [("gcp:project", "is also the project of stack staging"), ("coditect:cluster", "is also the cluster of stack staging")]
)
def test_prod_shares_neither_project_nor_cluster(tmp_path: Path, key: str, fragment: str) -> None:
    root = copy_project(tmp_path)
    staging = (root / "Pulumi.staging.yaml").read_text()
    prod = read_yaml(root / "Pulumi.prod.yaml")["config"]
    if key == "gcp:project":
        staging = staging.replace("gcp:project: coditect-staging", f"gcp:project: {prod['gcp:project']}")
    else:
        staging = staging.replace("context: gke_coditect-staging_", "context: gke_coditect-prod_").replace("_coditect-staging\n", "_coditect-prod\n")
    (root / "Pulumi.staging.yaml").write_text(staging)
    settings = parse_settings(stack_settings_raw("prod"), "prod")
    target = read_target(settings, {"gcp:project": prod["gcp:project"]}, "prod")
    with pytest.raises(SettingsError, match=fragment):
        refuse_shared_prod_target(target, settings, root)
    refuse_shared_prod_target(target, settings, ROOT)  # the committed stack files are separate


def test_the_provider_adopts_existing_objects_only_in_an_adoption_run(run_with: RunWith) -> None:
    normal = run_program("prod").one("pulumi:providers:kubernetes").inputs
    # Provider inputs cross the wire as strings.
    assert (normal["upsertExistingObjects"], normal["enablePatchForce"]) == ("false", "false")
    assert normal["clusterIdentifier"] == normal["context"], "toggling adoption updates the provider, never replaces it"

    def adopt(raw: dict) -> None:
        raw["cluster"] = {**raw["cluster"], "adopt": True}

    run = run_with("prod", adopt)
    adopting = run.one("pulumi:providers:kubernetes").inputs
    assert (adopting["upsertExistingObjects"], adopting["enablePatchForce"]) == ("true", "true")
    assert adopting["clusterIdentifier"] == normal["clusterIdentifier"]
    assert any("Remove coditect:cluster.adopt after this pulumi up" in message for message in run.messages)


def test_up_proves_gke_applied_the_backend_config_fail_in_prod_warn_elsewhere() -> None:
    """The after-up inspection hook is bound to the BackendConfig and the Ingress (it never runs in preview)."""
    from coditect.app import inspection_hooks
    from coditect.target import Target
    from livestate.hook import inspect_until

    def hooks_for(stack: str, after_up: str | None = None) -> object:
        raw = stack_settings_raw(stack)
        if after_up is not None:
            raw["inspection"] = {"afterUp": after_up}
        settings = parse_settings(raw, stack)
        return inspection_hooks(settings, Target(stack, f"coditect-{stack}", settings.cluster.context), list, inspect_until)

    assert parse_settings(stack_settings_raw("prod"), "prod").inspection_mode == "fail"
    assert parse_settings(stack_settings_raw("dev"), "dev").inspection_mode == "warn"
    binding = hooks_for("prod")
    assert binding is not None and binding.after_create and binding.after_update  # type: ignore[attr-defined]
    assert not binding.after_create[0].opts.on_dry_run  # type: ignore[attr-defined]
    assert hooks_for("dev", "off") is None
    assert inspection_hooks(parse_settings(stack_settings_raw("prod"), "prod"), Target("prod", "coditect-prod", "ctx"), list, None) is None, (
        "a program given no inspection declares no hook"
    )
