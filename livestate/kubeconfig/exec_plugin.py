"""The exec credential plugin (``users[].user.exec``,
https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins) run
here, not by the client (whose runner has no deadline): its settings checked, at most the deadline and
`MAX_EXEC_OUTPUT` bytes, killed with its process group, its ExecCredential checked."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from livestate.errors import Unusable, clip
from livestate.kubeconfig.display import kind_of, show
from livestate.kubeconfig.fields import field_flag, field_text, where
from livestate.kubeconfig.index import Entry
from livestate.kubeconfig.limits import EXEC_API_VERSIONS, GKE_PLUGIN, MAX_EXEC_OUTPUT


def _plugin_fix(command: str, args: Iterable[str], hint: str | None, installed: bool) -> str:
    base = os.path.basename(command)
    if base == GKE_PLUGIN:
        if not installed:
            return (
                "install it: gcloud components install gke-gcloud-auth-plugin "
                "(https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin)"
            )
        return "run `gcloud auth login` (the plugin uses gcloud's account), then try again"
    if hint and not installed:
        return show(" ".join(hint.split()), 300)
    return f"run `{show(' '.join([command, *args]), 200)}` yourself to see why" if installed else f"install {show(base, 100)} or put it on PATH"


def _exec_settings(entry: Entry, plugin: Any) -> tuple[str, list[str], dict[str, str], str]:
    """(command, args, extra environment, apiVersion) of a valid exec entry, or Unusable."""
    here = where(entry, "exec")
    if not isinstance(plugin, dict):
        raise Unusable(f"{here} must be a mapping (apiVersion, command, args, env), found {kind_of(plugin)}")
    sub = Entry(plugin, f"{entry.key}.exec", entry.file)
    api_version = field_text(sub, "apiVersion", required=True)
    if api_version not in EXEC_API_VERSIONS:
        raise Unusable(f"{here}.apiVersion {clip(repr(api_version), 80)} is not one of {', '.join(EXEC_API_VERSIONS)}. Fix: client.authentication.k8s.io/v1")
    command = str(field_text(sub, "command", required=True))
    args = plugin.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise Unusable(f"{here}.args must be a list of text")
    env: dict[str, str] = {}
    if not isinstance(plugin.get("env") or [], list):
        raise Unusable(f"{here}.env must be a list of {{name, value}}")
    for index, item in enumerate(plugin.get("env") or []):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("value"), str)):
            raise Unusable(f"{here}.env[{index}] must be a mapping of text name and text value")
        env[item["name"]] = item["value"]
    if plugin.get("interactiveMode") == "Always":
        raise Unusable(f"{here}.interactiveMode is Always, and this command has no terminal to give it. Fix: IfAvailable or Never")
    field_flag(sub, "provideClusterInfo")
    return command, list(args), env, str(api_version)


def run_exec(entry: Entry, plugin: Any, cluster: Mapping[str, Any], run: bool, deadline: float) -> dict[str, Any]:
    """Run the credential plugin (unless `run` is False: then only check it can be run): its token or
    client certificate and key (PEM bytes)."""
    command, args, env, api_version = _exec_settings(entry, plugin)
    hint = plugin.get("installHint") if isinstance(plugin.get("installHint"), str) else None
    name = show(os.path.basename(command), 100)
    path = command if os.sep in command else shutil.which(command)
    if path and os.sep in command and not os.path.isabs(command):
        path = str(entry.file.parent / command)  # clientcmd: a path with a separator is relative to the kubeconfig
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise Unusable(
            f"credential plugin {name} ({where(entry, 'exec.command')}) is not installed: "
            f"{show(command, 200)} is not an executable file on PATH. Fix: {_plugin_fix(command, args, hint, False)}"
        )
    if not run:
        return {}
    spec: dict[str, Any] = {"interactive": False}
    if plugin.get("provideClusterInfo"):
        spec["cluster"] = {k: v for k, v in cluster.items()}
    info = {"apiVersion": api_version, "kind": "ExecCredential", "spec": spec}
    stdout, stderr, code = _run_bounded(
        [path, *args],
        {**os.environ, **env, "KUBERNETES_EXEC_INFO": json.dumps(info)},
        deadline,
        lambda problem: Unusable(f"credential plugin {name} {problem}. Fix: {_plugin_fix(command, args, hint, True)}"),
    )
    if code != 0:
        said = show(" ".join(stderr.decode("utf-8", "replace").split()), 300) or "it printed nothing on stderr"
        raise Unusable(f"credential plugin {name} failed: exit status {code}: {said}; fix: {_plugin_fix(command, args, hint, True)}")
    return _exec_credential(stdout, name, api_version, _plugin_fix(command, args, hint, True))


def _run_bounded(argv: list[str], env: dict[str, str], deadline: float, fail: Callable[[str], Unusable]) -> tuple[bytes, bytes, int]:
    """(stdout, stderr, exit status) of `argv`, killed (with its process group) past `deadline` seconds
    or `MAX_EXEC_OUTPUT` bytes on either stream."""
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    except (OSError, ValueError) as error:  # ValueError: a NUL in an argument, an environment name with "="
        raise fail(f"cannot be started: {show(str(error.strerror if isinstance(error, OSError) else error), 200)}") from None
    streams = {process.stdout: bytearray(), process.stderr: bytearray()}
    end = time.monotonic() + deadline
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            selector.register(stream, selectors.EVENT_READ)  # type: ignore[arg-type]
        try:
            while selector.get_map():
                left = end - time.monotonic()
                if left <= 0:
                    raise fail(f"did not finish within {deadline:g} s and was stopped")
                for key, _ in selector.select(timeout=min(left, 0.5)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    buffer = streams[key.fileobj]  # type: ignore[index]
                    buffer += chunk
                    if len(buffer) > MAX_EXEC_OUTPUT:
                        raise fail(f"printed more than {MAX_EXEC_OUTPUT} bytes and was stopped")
            code = process.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise fail(f"closed its output but did not exit within {deadline:g} s and was stopped") from None
        finally:
            if process.poll() is None:
                _kill(process)
            for stream in streams:
                stream.close()  # type: ignore[union-attr]
    return bytes(streams[process.stdout]), bytes(streams[process.stderr]), code


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the plugin and whatever it started (gcloud runs python)
    except OSError:
        process.kill()
    process.wait()


def _exec_credential(stdout: bytes, name: str, api_version: str, fix: str) -> dict[str, Any]:
    """The ExecCredential's status: token, or PEM client certificate and key."""

    def bad(problem: str) -> Unusable:
        return Unusable(f"credential plugin {name} failed: its answer {problem}; fix: {fix}")

    try:
        answer = json.loads(stdout)
    except ValueError:
        raise bad(f"is not JSON ({clip(repr(stdout[:80]), 100)})") from None
    if not isinstance(answer, dict) or answer.get("kind") != "ExecCredential":
        raise bad("is not an ExecCredential")
    if answer.get("apiVersion") != api_version:
        raise bad(f"has apiVersion {clip(repr(answer.get('apiVersion')), 80)}, not the {api_version} the kubeconfig asks for")
    status = answer.get("status")
    if not isinstance(status, dict):
        raise bad("has no status")
    token = status.get("token")
    certificate, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if isinstance(token, str) and token:
        return {"token": token}
    if isinstance(certificate, str) and isinstance(key, str) and "-----BEGIN" in certificate and "-----BEGIN" in key:
        return {"certificate": certificate.encode(), "key": key.encode()}
    raise bad("holds neither status.token nor PEM status.clientCertificateData and clientKeyData")
