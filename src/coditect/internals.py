"""Every private or unstable dependency API the project relies on, behind one small name each.

Underscore modules, module-level engine state, wire constants and a package's data layout carry no
compatibility promise. Nothing else in the project touches them; ``tests/test_internals.py`` pins
what the project needs from each, so an upgrade that changes one fails there, naming the internal.

`pulumi up` installs only pulumi, pulumi-kubernetes, pulumi-gcp and pydantic, and the components
import this module: ``kubernetes_validate`` and ``pulumi_policy`` (ops and tests only) are imported
inside the functions that use them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi import _types as pulumi_types
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings

if TYPE_CHECKING:
    from pulumi_policy import EnforcementLevel, Policy

# Pulumi's wire protocol: a secret crosses the resource monitor as {SIG_KEY: SECRET_SIG, "value": v}
# (pulumi.runtime.rpc._special_sig_key / _special_secret_sig), and an unknown value as UNKNOWN.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_STRING_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


# Typed args (pulumi._types): the SDK's own python-name -> wire-name conversion.


def is_input_type(value: object) -> bool:
    """Whether `value` is a typed SDK args object, such as ``k8s.meta.v1.ObjectMetaArgs``."""
    return pulumi_types.is_input_type(type(value))


def input_type_to_dict(value: object) -> dict[str, Any]:
    """The fields set on a typed args object, under their wire (camelCase) names; nested args stay typed."""
    return pulumi_types.input_type_to_dict(value)


# Engine config (pulumi.runtime.config): what the program was given.


def engine_config() -> dict[str, Any]:
    """Every config key the engine passed to the program: ``PULUMI_CONFIG`` from the environment (how
    the CLI passes it) overlaid by the ``set_all_config`` map (how mocks pass it)."""
    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


# The mock engine (pulumi.runtime.settings ROOT, pulumi.runtime.mocks.MockMonitor).


def start_mock_engine(mocks: pulumi.runtime.Mocks, project: str, stack: str, logger: logging.Logger, preview: bool = False) -> runtime_mocks.MockMonitor:
    """Point the SDK at `mocks` with a fresh root stack (exports must not leak between runs); the
    monitor returned records every registration with its URN. With `preview`, the SDK runs as under
    `pulumi preview`: an output the mocks leave out is unknown, and inputs built from it carry the
    unknown wire value."""
    runtime_settings.ROOT.set(None)
    monitor = runtime_mocks.MockMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor, logger=logger)
    return monitor


def registered_urns(monitor: runtime_mocks.MockMonitor) -> list[str]:
    """The URN of every resource registered with the mock monitor, in registration order."""
    return [registration.urn for registration in monitor.get_registered_resources().values()]


def root_stack_exports() -> dict[str, Any]:
    """What the program exported (values or Outputs, unresolved); {} when no stack ran."""
    root = runtime_settings.get_root_resource()
    return dict(getattr(root, "outputs", None) or {})


# Secrets on the wire.


def is_unknown(value: Any) -> bool:
    """A value the SDK does not know yet (pulumi.output.Unknown): what `pulumi preview` has for outputs
    the cloud computes."""
    return isinstance(value, pulumi.output.Unknown)


def is_wire_secret(value: Any) -> bool:
    """Whether a value that crossed the mock boundary is a secret wrapper."""
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def wire_secret_value(value: Mapping[str, Any]) -> Any:
    """The value inside a secret wrapper (see `is_wire_secret`)."""
    return value.get("value")


# kubernetes-validate's schema files (its data layout, read through kubernetes_validate.utils).


def kubernetes_schema_version(kubernetes_version: str) -> str:
    """The newest schema set kubernetes-validate ships that is not newer than `kubernetes_version`."""
    from kubernetes_validate import utils

    wanted = utils.major_minor(kubernetes_version)
    return [v for v in utils.all_versions() if utils.major_minor(v) <= wanted][-1]


def kubernetes_strict_schema(api_version: str, kind: str, kubernetes_version: str) -> dict[str, Any] | None:
    """The strict (unknown fields are errors) JSON schema of a built-in kind, None when there is none.
    Its ``$ref``s point into `kubernetes_strict_definitions`."""
    import re

    from kubernetes_validate import utils

    # apps/v1 -> apps-v1, networking.k8s.io/v1 -> networking-v1, v1 -> v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        return dict(utils.schema_contents(f"{_strict_dir(kubernetes_version)}/{kind.lower()}-{group_version}.json", kubernetes_version))
    except FileNotFoundError:
        return None


@cache
def kubernetes_strict_definitions(kubernetes_version: str) -> dict[str, Any]:
    """The shared ``_definitions.json`` the strict schemas refer to (1.4 MB: read once per version)."""
    from kubernetes_validate import utils

    return dict(utils.schema_contents(f"{_strict_dir(kubernetes_version)}/_definitions.json", kubernetes_version))


def _strict_dir(kubernetes_version: str) -> str:
    return f"kubernetes-json-schema/v{kubernetes_schema_version(kubernetes_version)}-local-strict"


# pulumi_policy's analyzer service (pulumi_policy.policy._PolicyAnalyzerServicer, pulumi_policy.proxy).


def policy_analyzer_servicer(pack_name: str, version: str, policies: Sequence[Policy], enforcement_level: EnforcementLevel) -> Any:
    """The gRPC servicer a PolicyPack serves to the engine (Analyze, AnalyzeStack), built in-process."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(pack_name, version, list(policies), enforcement_level)


def unknown_checking_proxy(props: dict[str, Any]) -> Any:
    """Resource properties as the analyzer hands them to policies: reading an unknown value raises
    `unknown_value_error()`."""
    from pulumi_policy.proxy import unknown_checking_proxy as proxy

    return proxy(props)


def unknown_value_error() -> type[Exception]:
    """What a policy's read of an unknown (preview-time) value raises, for ``except unknown_value_error():``."""
    from pulumi_policy.proxy import UnknownValueError

    return UnknownValueError


# Google API discovery documents: package data of google-api-python-client (ops only).


@cache
def google_discovery_document(name: str) -> dict[str, Any]:
    """A discovery document shipped in ``googleapiclient/discovery_cache/documents``, e.g. "compute.v1"."""
    from importlib import resources

    return json.loads((resources.files("googleapiclient") / "discovery_cache" / "documents" / f"{name}.json").read_text(encoding="utf-8"))
