"""Run the real Pulumi program in-process under the Pulumi mock engine, no CLI needed.

Reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the engine would, passes the config to
the program, runs ``__main__.py`` and records every resource it registers (type, name, inputs,
URN) plus the stack exports.
"""

from __future__ import annotations

import json
import logging
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components import internals

ROOT = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "[secret]"
STACK_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"


class StackFileError(Exception):
    """A stack name, stack file or project file that cannot be used; the message says why."""


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

    def one(self, type_token: str) -> Captured:
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {[r.name for r in found]}")
        return found[0]


# Values a real deployment only knows afterwards. Explicit, never None or "".
KNOWN_AFTER_DEPLOY = {
    "gcp:compute/globalAddress:GlobalAddress": {"address": "<known after deploy: reserved IPv4 address>"},
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": {"uptimeCheckId": "<known after deploy: uptime check id>"},
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
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise StackFileError(f"{path.name} not found in {path.parent}") from None
    return _parse_yaml(text, path.name)


# libyaml when the PyYAML wheel has it: the same documents, parsed about ten times faster.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(text: str, name: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError as error:
        raise StackFileError(f"{name} is not valid YAML: {error}".replace("\n", " ")) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(f"{name} must be a YAML mapping, found {type(data).__name__}")
    return data


def project_name(root: Path = ROOT) -> str:
    name = read_yaml(root / "Pulumi.yaml").get("name")
    if not isinstance(name, str) or not name:
        raise StackFileError("Pulumi.yaml has no project name")
    return name


def available_stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def stack_path(stack: str, root: Path = ROOT) -> Path:
    """Pulumi.<stack>.yaml, or StackFileError when the name is invalid or the file missing."""
    import re

    if not re.match(STACK_NAME_PATTERN, stack):
        raise StackFileError(f"{stack!r} is not a valid stack name (letters, digits, '-', '_', '.')")
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(available_stacks(root)) or "none"
        raise StackFileError(f"no stack {stack!r}: {path.name} does not exist (stacks: {known})")
    return path


def stack_config(stack: str, root: Path = ROOT, stack_text: str | None = None) -> tuple[dict[str, str], list[str]]:
    """(engine config map, secret keys) for a stack: project defaults overlaid by the stack file
    (or by `stack_text`, a proposed new content of that file)."""
    path = stack_path(stack, root)
    project = project_name(root)
    merged: dict[str, Any] = {}
    project_config = read_yaml(root / "Pulumi.yaml").get("config") or {}
    for key, value in project_config.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and ("default" in value or "type" in value or "value" in value):
            if "value" in value:
                merged[full] = value["value"]
            elif "default" in value:
                merged[full] = value["default"]
        else:
            merged[full] = value
    stack_file = read_yaml(path) if stack_text is None else _parse_yaml(stack_text, path.name)
    config = stack_file.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: 'config' must be a mapping of keys to values")
    for key, value in config.items():
        merged[key if ":" in key else f"{project}:{key}"] = value
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

    pulumi.runtime.test(program or default_program)()

    urns_by_name: dict[str, list[str]] = {}
    for urn in internals.registered_urns(monitor):
        urns_by_name.setdefault(urn.rsplit("::", 1)[-1], []).append(urn)
    run = ProgramRun(stack=stack, secret_keys=list(secret_keys or []), messages=messages, preview=preview)
    for args in mocks.registered:
        urn = next((u for u in urns_by_name.get(args.name, []) if u.split("::")[-2].endswith(args.typ)), "")
        run.resources.append(Captured(args.typ, args.name, _ints(args.inputs), bool(args.custom), urn, args.provider or ""))
    run.exports = _resolve(internals.root_stack_exports())
    return run


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
