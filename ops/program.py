"""Run the real Pulumi program in-process under the Pulumi mock engine, no CLI needed.

Reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the engine would, passes the config to
the program, runs ``__main__.py`` and records every resource it registers (type, name, inputs,
URN) plus the stack exports.
"""

from __future__ import annotations

import json
import logging
import re
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from coditect import internals
from ops import stack_files
from ops.errors import StackFileError, clip

ROOT = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "[secret]"
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


@dataclass(frozen=True)
class Captured:
    """One resource the program registered."""

    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""
    provider: str = ""  # the provider reference ("<provider urn>::<id>"); empty for the default provider


@dataclass
class ProgramRun:
    stack: str
    resources: list[Captured] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # what the program logged (warnings and up)
    preview: bool = False  # run as `pulumi preview` runs it: cloud-computed outputs unknown

    def of_type(self, type_token: str) -> list[Captured]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Captured:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {[r.name for r in found]}")
        return found[0]


# Values a real deployment only knows afterwards. Explicit, never None or "".
KNOWN_AFTER_DEPLOY: dict[str, dict[str, Any]] = {
    "gcp:compute/globalAddress:GlobalAddress": {"address": "<known after deploy: reserved IPv4 address>"},
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": {"uptimeCheckId": "<known after deploy: uptime check id>"},
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": {
        "dnsResourceRecords": [{"name": "<known after deploy: record name>", "type": "CNAME", "data": "<known after deploy: record data>"}]
    },
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs back as outputs, record everything. After deploy (``up``), cloud-computed outputs
    get explicit placeholders; at preview they are left out, so the SDK treats them as unknown, as
    ``pulumi preview`` does."""

    def __init__(self, preview: bool = False) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.registered.append(args)
        outputs = dict(args.inputs)
        for key, value in {} if self.preview else KNOWN_AFTER_DEPLOY.get(args.typ, {}).items():
            outputs.setdefault(key, value)
        if "name" not in outputs and args.typ.startswith("gcp:"):
            outputs["name"] = args.name
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """(outputs, check failures) of a provider function."""
        if args.token == "gcp:organizations/getProject:getProject":
            return {"projectId": "<gcp project>", "number": "<gcp project number>", "name": "<gcp project>"}, []
        return {}, []


def _engine_value(value: Any) -> str:
    """Config the way the engine hands it to a program: scalars as text, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def read_yaml(path: Path) -> dict[str, Any]:
    """A project or stack file, read by the one bounded reader (ops/stack_files.py)."""
    return stack_files.read(path)


# libyaml when the PyYAML wheel has it: the same documents, parsed about ten times faster.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def project_name(root: Path = ROOT) -> str:
    name = read_yaml(root / "Pulumi.yaml").get("name")
    if not isinstance(name, str) or not name:
        raise StackFileError("Pulumi.yaml has no project name")
    return name


def is_stack_name(name: str) -> bool:
    """A name Pulumi accepts that is also safe as a path part: never `.` or `..`, no separator."""
    return STACK_NAME.fullmatch(name) is not None and name not in (".", "..")


def stack_file_names(root: Path = ROOT) -> list[str]:
    """The stack part of every Pulumi.<stack>.yaml in `root`, valid as a name or not."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def available_stacks(root: Path = ROOT) -> list[str]:
    """The stacks of the project: its Pulumi.<stack>.yaml files whose names are valid stack names."""
    return [name for name in stack_file_names(root) if is_stack_name(name)]


def stack_path(stack: str, root: Path = ROOT) -> Path:
    """Pulumi.<stack>.yaml, or StackFileError when the name is invalid or the file missing."""
    if not is_stack_name(stack):
        raise StackFileError(f"{clip(repr(stack), 120)} is not a valid stack name (letters, digits, '-', '_', '.'; not '.' or '..')")
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(available_stacks(root)) or "none"
        raise StackFileError(f"no stack {stack!r}: {path.name} does not exist (stacks: {known})")
    return path


def require_stacks(root: Path = ROOT) -> list[str]:
    """The project's stacks, or StackFileError when it has none: a command over no stack checks nothing."""
    stacks = available_stacks(root)
    if not stacks:
        project = "has Pulumi.yaml but" if (root / "Pulumi.yaml").exists() else "is not a Pulumi project (no Pulumi.yaml) and has"
        raise StackFileError(
            f"{clip(str(root), 200)} {project} no stack file (Pulumi.<stack>.yaml): nothing to check. Fix: pass --project <the project directory>"
        )
    return stacks


def stack_config(stack: str, root: Path = ROOT, stack_text: str | None = None) -> tuple[dict[str, str], list[str]]:
    """(engine config map, secret keys) for a stack: project defaults overlaid by the stack file
    (or by `stack_text`, a proposed new content of that file)."""
    path = stack_path(stack, root)
    project = project_name(root)
    merged: dict[str, Any] = {}
    project_config = read_yaml(root / "Pulumi.yaml").get("config") or {}
    if not isinstance(project_config, dict):
        raise StackFileError("Pulumi.yaml: 'config' must be a mapping of keys to values")
    for key, value in project_config.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and ("default" in value or "type" in value or "value" in value):
            if "value" in value:
                merged[full] = value["value"]
            elif "default" in value:
                merged[full] = value["default"]
        else:
            merged[full] = value
    stack_file = read_yaml(path) if stack_text is None else stack_files.parse(stack_text, path.name)
    config = stack_file.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: 'config' must be a mapping of keys to values")
    if "environment" in stack_file:  # an ESC import: the CLI's merged view, or a refusal naming `environment:`
        from ops import esc

        resolved, _ = esc.merged_config(stack, root, stack_file)
        merged.update(resolved)
        for key, value in config.items():  # a proposed stack file (promote, rollback) wins as the CLI lets it win
            full = stack_files.config_key(key, path.name)
            merged[full] = esc.merge_patch(merged.get(full), value)
    else:
        for key, value in config.items():
            merged[stack_files.config_key(key, path.name)] = value
    secret_keys = [k for k, v in merged.items() if isinstance(v, dict) and set(v) == {"secure"}]
    engine = {k: (SECRET_PLACEHOLDER if k in secret_keys else _engine_value(v)) for k, v in merged.items()}
    return engine, secret_keys


def run_program(
    stack: str,
    config: dict[str, str] | None = None,
    program: Callable[[], None] | None = None,
    root: Path = ROOT,
    secret_keys: list[str] | None = None,
    preview: bool = False,
) -> ProgramRun:
    """Run `program` (default: the project's __main__.py) for `stack` under mocks, as `pulumi up`
    runs it or, with `preview`, as `pulumi preview` does (cloud-computed outputs unknown).

    `config` replaces the stack file's config when given. Exceptions the program raises (settings
    and invariant errors) propagate unchanged.
    """
    if config is None:
        config, secret_keys = stack_config(stack, root)
    project = project_name(root)
    mocks = RecordingMocks(preview)
    messages: list[str] = []
    pulumi.runtime.set_all_config(dict(config), list(secret_keys or []))
    monitor = internals.start_mock_engine(mocks, project, stack, _collecting_logger(messages), preview)

    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    def default_program() -> None:
        runpy.run_path(str(root / "__main__.py"), run_name="__main__")

    pulumi.runtime.test(_no_early_exit(program or default_program))()

    urns_by_name: dict[str, list[str]] = {}
    for urn in internals.registered_urns(monitor):
        urns_by_name.setdefault(urn.rsplit("::", 1)[-1], []).append(urn)
    run = ProgramRun(stack=stack, secret_keys=list(secret_keys or []), messages=messages, preview=preview)
    for args in mocks.registered:
        urn = next((u for u in urns_by_name.get(args.name, []) if u.split("::")[-2].endswith(args.typ)), "")
        run.resources.append(Captured(args.typ, args.name, _ints(args.inputs), bool(args.custom), urn, args.provider or ""))
    run.exports = _resolve(internals.root_stack_exports())
    return run


class ProgramExited(Exception):
    """The program called sys.exit(): whatever it declared after that point was never checked."""


def _no_early_exit(program: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            program()
        except SystemExit as exit_:
            raise ProgramExited(
                f"it called sys.exit({clip(repr(exit_.code), 80)}) before it finished: a run that stops early "
                "declares only part of the stack, so nothing was checked. Fix: remove the exit"
            ) from None

    return run


# The components every stack of this project declares; a run without one of them is not this program.
REQUIRED_COMPONENTS = tuple(f"coditect:index:{name}" for name in ("AppNamespace", "CombinedDeployment", "BackendConfig", "NegService", "WebsocketIngress"))
# A stack whose only front door is the Gateway (frontDoors [gateway]) declares it instead of the Ingress and its BackendConfig.
GATEWAY_ONLY_COMPONENTS = tuple(f"coditect:index:{name}" for name in ("AppNamespace", "CombinedDeployment", "NegService", "WebsocketGateway"))


def missing_components(run: ProgramRun) -> list[str]:
    """What a run of the project's program lacks: every resource when it registered none, else the
    required components it did not declare."""
    if not run.resources:
        return ["any resource (the program registered none)"]
    declared = {resource.type for resource in run.resources if not resource.custom}
    gateway_only = "coditect:index:WebsocketGateway" in declared and "coditect:index:WebsocketIngress" not in declared
    return [token for token in (GATEWAY_ONLY_COMPONENTS if gateway_only else REQUIRED_COMPONENTS) if token not in declared]


def _collecting_logger(messages: list[str]) -> logging.Logger:
    """The engine log of one run (pulumi.log.warn etc.), kept instead of printed."""

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.Logger("coditect.program", level=logging.WARNING)
    logger.addHandler(Collect())
    logger.propagate = False
    return logger


def _ints(value: Any, secret: bool = False) -> Any:
    """Plain values from what crossed the mock boundary: whole floats (protobuf Struct) become
    ints again, every leaf of a secret becomes [secret] (its shape stays, its value never shows), and
    a value unknown at preview becomes the unknown wire value the policy analyzer sees."""
    if internals.is_unknown(value):
        return internals.UNKNOWN_STRING_VALUE
    if internals.is_wire_secret(value):
        return _ints(internals.wire_secret_value(value), secret=True)
    if isinstance(value, dict):
        return {k: _ints(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v, secret) for v in value]
    if secret and value is not None:
        return SECRET_PLACEHOLDER
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _resolve(outputs: dict[str, Any]) -> dict[str, Any]:
    """Exported values with every Output awaited."""
    resolved: dict[str, Any] = {}

    async def collect() -> None:
        for key, value in outputs.items():
            resolved[key] = await pulumi.Output.from_input(value).future()

    import asyncio

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(collect())
    finally:
        loop.close()
    return resolved
