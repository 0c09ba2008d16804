"""Shared by the kubeconfig loader's tests (tests/test_kubeconfig*.py): a valid kubeconfig to vary, writing it,
the one-line refusal it must give, and shell-script credential plugins with their ExecCredential answers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from livestate import kubeconfig
from livestate.errors import Unusable
from tests.standin.world import CONTEXT

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
PEM = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUSw==\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n"


def document(server: str = "https://203.0.113.10", user: Json | None = None, cluster: Json | None = None) -> Json:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": CONTEXT,
        "clusters": [{"name": "prod", "cluster": {"server": server, "certificate-authority-data": base64.b64encode(PEM).decode(), **(cluster or {})}}],
        "users": [{"name": "prod", "user": user if user is not None else {"token": "t0ken"}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": "prod", "user": "prod"}}],
    }


def write(path: Path, content: Json | str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def refused(path: Path | str, context: str | None = CONTEXT) -> str:
    with pytest.raises(Unusable) as raised:
        kubeconfig.load(str(path), context)
    message = str(raised.value)
    assert message.isprintable() and "Traceback" not in message
    return message


def plugin(tmp_path: Path, name: str, body: str) -> Path:
    """An executable credential plugin: a shell script."""
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return script


def exec_user(command: Path | str, api_version: str = "client.authentication.k8s.io/v1beta1") -> Json:
    return {"exec": {"apiVersion": api_version, "command": str(command), "args": ["--flag"], "interactiveMode": "IfAvailable"}}


def credential(status: Json, api_version: str = "client.authentication.k8s.io/v1beta1") -> str:
    return json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": status})
