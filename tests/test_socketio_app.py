"""SocketIoApp, the public component: its args are AppSettings (the stack settings' definition, generated
into src/coditect/args.py), refused one line per problem under args.<key>; it renders what the stack
renders for the same values; its children keep their URNs through aliases; and `import coditect.gke`
stays free of the components."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any, cast, get_args, is_typeddict

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime.resource import all_aliases
from pydantic import BaseModel
from pydantic.alias_generators import to_camel, to_snake

from coditect import SocketIoApp, SocketIoAppArgs
from coditect.base import pack_levels
from coditect.gke import Finding
from coditect.settings import AppSettings, Settings, SettingsError, parse_settings
from coditect.socketio_app import SocketIoAppError, app_settings, component_refusal, socketio_url
from ops import component_args
from ops.manifests import gcp_resources, kubernetes_manifests
from ops.program import ProgramRun, project_name, run_program, stack_config
from tests.conftest import ROOT, stack_run, stack_settings_raw

RELEASE = {"version": "1.4.2", "images": {"nginx": "nginx:1.27", "ide": "theia:1.4.2"}}
OUTPUTS = list(inspect.get_annotations(SocketIoApp))
MINIMAL: dict[str, Any] = {"environment": "dev", "hosts": ["app.example.com"], "release": RELEASE}


def snake(value: Any) -> Any:
    """The stack file's camelCase keys as the args' snake_case keys."""
    if isinstance(value, dict):
        return {to_snake(key): snake(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake(item) for item in value]
    return value


def stack_args(stack: str) -> dict[str, Any]:
    """A stack file's settings without the stack's own keys, as a consumer would pass them."""
    raw = stack_settings_raw(stack)
    return snake({key: value for key, value in raw.items() if key not in ("cluster", "inspection")})


def run_component(args: Any, stack: str = "dev", after: Callable[[SocketIoApp], None] | None = None) -> ProgramRun:
    """`SocketIoApp("app", args)` on a cluster provider like the stack's, under mocks; every output exported."""
    context = "gke_example_us-central1_example"

    def program() -> None:
        cluster = k8s.Provider("cluster", context=context, cluster_identifier=context)
        levels = pack_levels(ROOT / "policy" / "config" / f"{stack}.json")
        app = SocketIoApp("app", args, pulumi.ResourceOptions(providers={"kubernetes": cluster}), levels=levels)
        for key in OUTPUTS:
            pulumi.export(key, getattr(app, key))
        if after:
            after(app)

    config, secrets = stack_config(stack)
    return run_program(stack, config=config, program=program, secret_keys=secrets)


# --- one model ---------------------------------------------------------------------------------


def typed_dict_keys(typ: Any) -> dict[str, Any]:
    """{key: nested keys or None} of a TypedDict, through pulumi.Input/Required/list wrappers."""
    tree: dict[str, Any] = {}
    for key, hint in inspect.get_annotations(typ).items():  # objects: args.py has no postponed annotations
        nested = _typed_dict_in(hint)
        tree[key] = typed_dict_keys(nested) if nested else None
    return tree


def _typed_dict_in(hint: Any) -> Any:
    if is_typeddict(hint):
        return hint
    for arg in get_args(hint):
        if (found := _typed_dict_in(arg)) is not None:
            return found
    return None


def test_the_committed_args_are_generated_from_app_settings() -> None:
    assert component_args.PART.is_current(), f"src/coditect/args.py is stale: run `{component_args.COMMAND}`"


def test_the_args_keys_are_app_settings_fields_recursively() -> None:
    assert typed_dict_keys(SocketIoAppArgs) == component_args.fields_of(AppSettings)
    assert SocketIoAppArgs.__required_keys__ == {k for k, f in AppSettings.model_fields.items() if f.is_required()}


def test_the_stack_settings_are_the_app_settings_and_the_stack_keys() -> None:
    assert issubclass(Settings, AppSettings)
    assert set(Settings.model_fields) - set(AppSettings.model_fields) == {"cluster", "inspection"}
    for key, field in AppSettings.model_fields.items():  # one definition: the same field object semantics and default
        assert Settings.model_fields[key].default == field.default and Settings.model_fields[key].annotation == field.annotation


ANALYZE = """
import json
import pulumi.provider.experimental.analyzer as analyzer
from coditect import SocketIoApp
result = analyzer.Analyzer("coditect").analyze([SocketIoApp])
component = result["component_definitions"]["SocketIoApp"]
print(json.dumps({
    "inputs": {k: p.optional for k, p in component.inputs.items()},
    "outputs": {k: p.optional for k, p in component.outputs.items()},
    "timeoutSec": result["type_definitions"]["BackendConfigArgs"].properties["timeoutSec"].description,
}))
"""


def test_the_analyzer_reads_the_args_and_the_outputs() -> None:
    # In a process of its own: pulumi.provider's protos clash with the Google clients' once both are loaded
    # (duplicate symbol google.rpc.Status), and other tests load those.
    done = subprocess.run([sys.executable, "-c", ANALYZE], cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert set(found["inputs"]) == {field.alias for field in AppSettings.model_fields.values()}
    assert {k for k, optional in found["inputs"].items() if not optional} == {"environment", "hosts", "release"}
    assert found["outputs"] == {
        "namespace": False,
        "serviceName": False,
        "ingressName": True,
        "backendConfigName": True,
        "gatewayName": True,
        "staticIpAddress": True,
        "gatewayIpAddress": True,
        "gatewayCertificateDnsRecords": True,
        "url": False,
    }
    assert "at least" in found["timeoutSec"]  # the docstrings of the generated args reach the schema


# --- refusals, each under args.<key> -----------------------------------------------------------


def refusal_lines(args: Any) -> list[str]:
    with pytest.raises(SocketIoAppError) as raised:
        app_settings("app", args)
    assert isinstance(raised.value, pulumi.RunError)  # the engine prints the message, not a traceback
    return str(raised.value).splitlines()


def test_valid_minimal_args_pass_with_the_stack_defaults() -> None:
    settings = app_settings("app", MINIMAL)
    assert settings.namespace == "coditect-app" and settings.deployment.replicas == 3
    assert settings.deployment.pre_stop_seconds == settings.backend_config.draining_timeout_sec  # derived, as for a stack


def test_a_value_out_of_range_is_one_line_naming_the_arg() -> None:
    [line] = refusal_lines({**MINIMAL, "deployment": {"replicas": 0}})
    assert line.startswith("SocketIoApp app: args.deployment.replicas: ") and "(got 0)" in line and "Fix: set args.deployment.replicas" in line


def test_a_nested_key_is_named_in_camel_case() -> None:
    [line] = refusal_lines({**MINIMAL, "backend_config": {"timeout_sec": 0}})
    assert line.startswith("SocketIoApp app: args.backendConfig.timeoutSec: ")


def test_a_cross_field_rule_names_each_arg() -> None:
    lines = refusal_lines({**MINIMAL, "environment": "prod", "deployment": {"replicas": 1}, "gcp": {"monitoring": {"enabled": False}}})
    assert any(line.startswith("SocketIoApp app: args.deployment.replicas: is 1; prod needs at least 2 replicas") for line in lines)
    assert any(line.startswith("SocketIoApp app: args.gcp.monitoring.enabled: is false; prod requires it") for line in lines)
    assert all(line.startswith("SocketIoApp app: args.") and "Fix: set args." in line for line in lines)


def test_the_stack_settings_give_the_same_cross_field_message() -> None:
    """One model: the stack path reports the same text under coditect:<key>."""
    [app_line] = refusal_lines({**MINIMAL, "deployment": {"min_available": 3}})
    raw = {**stack_settings_raw("dev"), "deployment": {"minAvailable": 3}}
    with pytest.raises(SettingsError) as raised:
        parse_settings(raw, "dev")
    [stack_line] = [line for line in str(raised.value).splitlines() if "deployment.minAvailable" in line]
    message = app_line.split("args.deployment.minAvailable: ", 1)[1].split(". Fix:")[0]
    assert message in stack_line


def test_a_missing_required_key_is_named() -> None:
    [line] = refusal_lines({"environment": "dev", "hosts": ["app.example.com"]})
    assert line == "SocketIoApp app: args.release: is required but not set. Fix: set args.release"


def test_an_unknown_key_is_named_with_its_removal() -> None:
    [line] = refusal_lines({**MINIMAL, "deployment": {"replicaz": 2}})
    assert line == "SocketIoApp app: args.deployment.replicaz: is not a known setting (typo?) (got 2). Fix: remove args.deployment.replicaz or correct its name"


def test_the_stack_keys_are_not_args() -> None:
    [line] = refusal_lines({**MINIMAL, "cluster": {"context": "gke_x"}})
    assert line.startswith("SocketIoApp app: args.cluster: is not a known setting")


def test_an_output_value_is_refused_before_validation() -> None:
    def program() -> None:
        with pytest.raises(SocketIoAppError) as raised:
            app_settings("app", {**MINIMAL, "hosts": ["ok.example.com", pulumi.Output.from_input("late.example.com")]})
        [line] = str(raised.value).splitlines()
        assert (
            line.startswith("SocketIoApp app: args.hosts[1]: is an Output (a value another resource computes, or a secret)")
            and "Fix: pass a plain value" in line
        )

    config, secrets = stack_config("dev")
    run_program("dev", config=config, program=program, secret_keys=secrets)


def test_args_that_are_not_a_mapping_are_refused() -> None:
    [line] = refusal_lines(["environment", "dev"])
    assert line.startswith("SocketIoApp app: args is list, not a mapping")


def test_refused_args_register_nothing() -> None:
    refused: list[str] = []

    def program() -> None:
        try:
            SocketIoApp("app", cast(SocketIoAppArgs, {**MINIMAL, "deployment": {"replicas": 0}}))
        except SocketIoAppError as error:
            refused.append(str(error))

    config, secrets = stack_config("dev")
    run = run_program("dev", config=config, program=program, secret_keys=secrets)
    assert refused and run.resources == []  # judged before the component registers itself


def test_a_gke_rule_finding_is_named_by_its_arg() -> None:
    """The rules judge the declared objects; the finding is reported under the arg behind the field."""
    with pytest.raises(SocketIoAppError) as raised:
        run_component({**MINIMAL, "backend_config": {"timeout_sec": 60}, "socketio": {"min_session_sec": 3600}})
    lines = str(raised.value).splitlines()
    assert any(line.startswith("SocketIoApp app: args.backendConfig.timeoutSec: ") and "Fix: change args.backendConfig.timeoutSec" in line for line in lines)


def test_a_rule_finding_carries_one_fix_naming_the_arg() -> None:
    """The rule's own fix is folded into the change of the arg: one "Fix:" per line, not two."""
    with pytest.raises(SocketIoAppError) as raised:
        run_component({**MINIMAL, "gcp": {"tls": {"allow_http": False}}})
    [line] = [line for line in str(raised.value).splitlines() if "[frontendconfig-redirect-needs-http]" in line]
    assert line.startswith("SocketIoApp app: args.gcp.tls.allowHttp: [frontendconfig-redirect-needs-http] ")
    assert line.count("Fix:") == 1 and "Fix: change args.gcp.tls.allowHttp (" in line and line.endswith(")")


def test_every_finding_line_of_the_refusal_has_exactly_one_fix() -> None:
    refuse = component_refusal("app")
    with_key = Finding("Ingress ns/web", "ingress-allow-http-without-tls", "allow-http is false without TLS.", "Configure TLS or keep allow-http true.")
    without_key = Finding("Service ns/web", "no-such-mapping", "is wrong.", "Do the thing.")
    lines = str(refuse([with_key, without_key])).splitlines()
    assert lines == [
        "SocketIoApp app: args.gcp.tls.allowHttp: [ingress-allow-http-without-tls] Ingress ns/web: allow-http is false without TLS. "
        "Fix: change args.gcp.tls.allowHttp (Configure TLS or keep allow-http true)",
        "SocketIoApp app: [no-such-mapping] Service ns/web: is wrong. Fix: Do the thing.",
    ]


# --- the component under mocks -----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_component_renders_what_the_stack_renders_for_the_same_values(stack: str) -> None:
    component, program = run_component(stack_args(stack), stack), stack_run(stack)
    assert kubernetes_manifests(component.resources) == kubernetes_manifests(program.resources)
    assert gcp_resources(component.resources) == gcp_resources(program.resources)


def test_minimal_args_declare_the_app_and_its_outputs_resolve() -> None:
    run = run_component(MINIMAL)
    assert run.exports == {
        "namespace": "coditect-app",
        "service_name": "coditect-combined-service",
        "ingress_name": "coditect-ingress",
        "backend_config_name": "coditect-backend-config",
        "gateway_name": None,
        "static_ip_address": "<known after deploy: reserved IPv4 address>",
        "gateway_ip_address": None,
        "gateway_certificate_dns_records": None,
        "url": "https://app.example.com/theia/socket.io/",
    }
    kinds = {m["kind"] for m in kubernetes_manifests(run.resources)}
    assert {"Namespace", "Deployment", "Service", "BackendConfig", "Ingress", "ManagedCertificate"} <= kinds


TLS_OFF: dict[str, Any] = {"gcp": {"tls": {"enabled": False, "redirect_to_https": False}}}
GATEWAY_BUNDLE: dict[str, Any] = {"bundle_version": "v1.5.1"}


def test_the_url_is_http_when_tls_is_off() -> None:
    """Without gcp.tls the Ingress has no certificate and serves HTTP only: `ops verify <url>` must get http://."""
    run = run_component({**MINIMAL, **TLS_OFF})
    assert run.exports["url"] == "http://app.example.com/theia/socket.io/"
    assert not [m for m in kubernetes_manifests(run.resources) if m["kind"] == "ManagedCertificate"]


def test_the_url_is_https_with_tls() -> None:
    assert run_component(MINIMAL).exports["url"] == "https://app.example.com/theia/socket.io/"
    assert socketio_url(app_settings("app", {**MINIMAL, **TLS_OFF})) == "http://app.example.com/theia/socket.io/"


GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"


@pytest.mark.parametrize(
    ("doors", "ingress_ip", "gateway_ip"),
    [(["ingress"], True, False), (["gateway"], False, True), (["ingress", "gateway"], True, True)],
)
def test_each_address_output_is_set_only_with_its_front_door(doors: list[str], ingress_ip: bool, gateway_ip: bool) -> None:
    """Both addresses are declared (each kept for a rollback), but an address is an output only while its door serves on it."""
    run = run_component({**MINIMAL, "front_doors": doors, "gateway": GATEWAY_BUNDLE})
    assert {r.inputs["name"] for r in run.of_type(GLOBAL_ADDRESS)} == {"coditect-dev-ip", "coditect-dev-gw-ip"}  # none dropped
    address = "<known after deploy: reserved IPv4 address>"
    assert run.exports["static_ip_address"] == (address if ingress_ip else None)
    assert run.exports["gateway_ip_address"] == (address if gateway_ip else None)


@pytest.mark.parametrize("doors", [["gateway"], ["ingress", "gateway"]])
def test_the_gateway_certificates_dns_records_are_an_output(doors: list[str]) -> None:
    run = run_component({**MINIMAL, "front_doors": doors, "gateway": GATEWAY_BUNDLE})
    assert run.exports["gateway_certificate_dns_records"] == [
        {"host": "app.example.com", "name": "<known after deploy: record name>", "type": "CNAME", "data": "<known after deploy: record data>"}
    ]


def test_without_the_gateway_door_there_are_no_dns_records() -> None:
    run = run_component({**MINIMAL, "gateway": GATEWAY_BUNDLE})
    assert run.exports["gateway_certificate_dns_records"] is None and run.exports["gateway_name"] is None


def test_every_child_sits_under_the_component_on_the_given_provider() -> None:
    run = run_component(MINIMAL)
    for resource in run.resources:
        if resource.type.startswith("pulumi:providers:") or resource.type == "coditect:index:SocketIoApp":
            continue
        if not resource.custom:  # the internal components: direct children of SocketIoApp
            assert resource.urn.split("::")[2] == f"coditect:index:SocketIoApp${resource.type}", resource.urn
        if resource.custom and resource.type.startswith("kubernetes:"):
            assert resource.provider.split("::")[-2] == "cluster", resource.urn


def test_every_former_top_level_child_is_aliased_to_its_root_urn() -> None:
    """A deployed stack moves under the component without a replacement: each direct child's alias is its
    URN at the stack root, and its own children inherit an alias to theirs (pulumi/runtime/resource.py all_aliases)."""
    aliases: dict[str, Any] = {}

    def collect(app: SocketIoApp) -> None:
        for child in app._childResources:
            assert child._aliases, f"{child._type} {child._name} has no alias"
            aliases[f"{child._type}::{child._name}"] = child._aliases[0]
            for grandchild in child._childResources:
                inherited = all_aliases([], grandchild._name, grandchild._type, child)
                aliases[f"{child._type}${grandchild._type}::{grandchild._name}"] = inherited[0]
        pulumi.export("aliases", aliases)

    run = run_component(MINIMAL, after=collect)
    prefix = f"urn:pulumi:dev::{project_name()}::"
    found = run.exports["aliases"]
    direct = {key for key in found if "$" not in key.split("::")[0]}
    assert {"coditect:index:AppNamespace::namespace", "coditect:index:CombinedDeployment::combined", "coditect:index:StaticIp::static-ip"} <= direct
    assert {key: found[key] for key in direct} == {key: prefix + key for key in direct}
    grandchildren = {key: urn for key, urn in found.items() if key not in direct}
    assert "coditect:index:AppNamespace$kubernetes:core/v1:Namespace::namespace" in grandchildren
    assert grandchildren == {key: prefix + key for key in grandchildren}


def test_the_repository_program_keeps_its_resource_names_under_the_component(prod: ProgramRun) -> None:
    [component] = prod.of_type("coditect:index:SocketIoApp")
    assert component.name == "app"
    names = {(r.type, r.name) for r in prod.resources}
    assert ("coditect:index:AppNamespace", "namespace") in names and ("kubernetes:core/v1:Namespace", "namespace") in names


# --- the package stays light -------------------------------------------------------------------


def test_importing_the_rule_engine_leaves_the_components_out() -> None:
    code = (
        "import sys, coditect.gke\n"
        "assert 'pulumi_kubernetes' not in sys.modules and 'pulumi' not in sys.modules, sorted(m for m in sys.modules if 'pulumi' in m)\n"
        "import coditect\n"
        "assert 'SocketIoApp' in coditect.__all__ and 'pulumi_kubernetes' not in sys.modules\n"
        "from coditect import SocketIoApp, SocketIoAppArgs\n"
        "assert 'pulumi_kubernetes' in sys.modules and SocketIoApp.__module__ == 'coditect.socketio_app'\n"
        "try:\n    coditect.NoSuchThing\nexcept AttributeError as error:\n    assert 'NoSuchThing' in str(error)\nelse:\n    raise SystemExit('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def bounded_numbers(model: type[BaseModel], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], int]]:
    """(field path, lowest allowed) of every bounded whole-number setting under `model`."""
    found = []
    for name, info in model.model_fields.items():
        least = next((entry.ge for entry in info.metadata if getattr(entry, "ge", None) is not None), None)
        if least is not None and isinstance(least, int):
            found.append(((*path, name), least))
        nested = component_args._model_in(info.annotation)
        if nested:
            found += bounded_numbers(nested, (*path, name))
    return found


def nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    return {path[0]: nested(path[1:], value)} if len(path) > 1 else {path[0]: value}


BOUNDED = bounded_numbers(AppSettings)


@pytest.mark.parametrize(("path", "least"), BOUNDED, ids=[".".join(p) for p, _ in BOUNDED])
def test_every_lower_bound_is_the_stack_settings_bound(path: tuple[str, ...], least: int) -> None:
    """The same model judges both: one below the bound is refused under args.<key> and under coditect:<key>
    with the same message; the bound itself is not refused for that key."""
    key = ".".join(to_camel(part) for part in path)
    lines = refusal_lines({**MINIMAL, **nested(path, least - 1)})
    [line] = [line for line in lines if line.startswith(f"SocketIoApp app: args.{key}: ")]
    with pytest.raises(SettingsError) as raised:
        parse_settings({**stack_settings_raw("dev"), **nested(tuple(to_camel(p) for p in path), least - 1)}, "dev")
    [stack_line] = [text for text in str(raised.value).splitlines() if text.startswith(f"  - coditect:{key}: ")]
    message = line.removeprefix(f"SocketIoApp app: args.{key}: ").split(". Fix:")[0]
    assert message == stack_line.removeprefix(f"  - coditect:{key}: ").split(". Fix:")[0]
    try:
        app_settings("app", {**MINIMAL, **nested(path, least)})
    except SocketIoAppError as error:  # the bound may conflict with another default (a cross-field rule), never with itself
        assert not any(text.startswith(f"SocketIoApp app: args.{key}: Input should be") for text in str(error).splitlines())
