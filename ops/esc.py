"""Stacks that import a Pulumi ESC environment (the stack file's ``environment:`` key).

The CLI merges the environment's ``pulumiConfig`` into the stack's configuration, preferring the stack
file's values and merging objects as a JSON Merge Patch (pulumi/pulumi pkg/workspace/config.go,
``mergeConfig``). `ops` reads stack files without the CLI, so on its own it would render, check or promote
such a stack as if the import were absent. Instead it asks the CLI for the merged configuration
(`pulumi config --json`), and refuses, naming ``environment:``, where the CLI cannot give it: no CLI, or a
backend without ESC ("backend ... does not support environments", pkg/cmd/pulumi/config/config_env.go).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ops.errors import StackFileError, clip

CLI_TIMEOUT_S = 120.0  # opening an environment may resolve dynamic credentials (OIDC) behind the scenes
MAX_OUTPUT_BYTES = 8 * 1024 * 1024


def imports_of(stack_file: Mapping[str, Any]) -> list[str]:
    """The environments a stack file imports (`environment:` is a list of names, or `{imports: [...]}`)."""
    value = stack_file.get("environment")
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = value.get("imports", [])
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _refuse(stack: str, names: list[str], why: str, fix: str) -> StackFileError:
    shown = ", ".join(clip(name, 100) for name in names) or "(empty)"
    return StackFileError(
        f"Pulumi.{stack}.yaml: environment: imports the ESC environment {shown}, and {why}: ops will not judge the stack without it. Fix: {fix}"
    )


def cli_path() -> str | None:
    """$PULUMI_CLI, else `pulumi` on PATH."""
    return os.environ.get("PULUMI_CLI") or shutil.which("pulumi")


def merged_config(stack: str, root: Path, stack_file: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(config, secret keys) as the CLI resolves them for `stack`, environment included; StackFileError otherwise."""
    names = imports_of(stack_file)
    fix = "`pulumi login` to a backend with ESC, the CLI on PATH (or $PULUMI_CLI), or move the values into the stack file"
    cli = cli_path()
    if cli is None:
        raise _refuse(stack, names, "there is no Pulumi CLI here to resolve it", fix)
    try:
        result = subprocess.run(
            [cli, "config", "--json", "--stack", stack, "--cwd", str(root), "--non-interactive"],
            capture_output=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise _refuse(stack, names, f"`pulumi config --json` did not answer within {CLI_TIMEOUT_S:g} s", fix) from None
    except OSError as error:
        raise _refuse(stack, names, f"the Pulumi CLI {clip(cli, 200)} could not be run ({error.strerror})", fix) from None
    if result.returncode != 0:
        reason = next((line.strip() for line in result.stderr.decode("utf-8", "replace").splitlines() if line.strip()), "no message")
        raise _refuse(stack, names, f"`pulumi config --json` failed: {clip(reason, 300)}", fix)
    if len(result.stdout) > MAX_OUTPUT_BYTES:
        raise _refuse(stack, names, f"`pulumi config --json` printed more than {MAX_OUTPUT_BYTES} bytes", fix)
    try:
        listing = json.loads(result.stdout)
    except ValueError:
        raise _refuse(stack, names, "`pulumi config --json` printed something that is not JSON", fix) from None
    if not isinstance(listing, dict):
        raise _refuse(stack, names, "`pulumi config --json` printed something that is not an object of keys", fix)
    return _values(listing)


def _values(listing: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`pulumi config --json` entries ({value | objectValue, secret}, pkg/cmd/pulumi/config/config.go configValueJSON)."""
    config: dict[str, Any] = {}
    secrets: list[str] = []
    for key, entry in listing.items():
        if not isinstance(entry, Mapping):
            continue
        if entry.get("secret"):
            secrets.append(key)
            config[key] = {"secure": "[resolved by the CLI]"}
        elif "objectValue" in entry:
            config[key] = entry["objectValue"]
        else:
            config[key] = entry.get("value")
    return config, secrets


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: how the CLI lets stack values win over the environment's."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged
