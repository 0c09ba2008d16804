"""The one kubeconfig loader (livestate/kubeconfig.py), issue 19 class 3: hostile and careless kubeconfigs,
token files and exec credential plugins give one line naming the file, the key and the fix (exit 2),
within bounds of time and memory; a valid one reaches the cluster through the real `kubernetes` client."""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livestate import kubeconfig
from livestate.errors import Unusable
from livestate.kube import KubernetesApi
from ops.__main__ import main
from ops.kubeconfig import preflight
from tests.standin.world import CONTEXT

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
PEM = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUSw==\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n"


def document(server: str = "https://203.0.113.10", user: Json | None = None, cluster: Json | None = None) -> Json:
    return {"apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
            "clusters": [{"name": "prod", "cluster": {"server": server, "certificate-authority-data": base64.b64encode(PEM).decode(),
                                                       **(cluster or {})}}],
            "users": [{"name": "prod", "user": user if user is not None else {"token": "t0ken"}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": "prod", "user": "prod"}}]}


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


# --- valid kubeconfigs ----------------------------------------------------------------------------------

def test_a_valid_kubeconfig_resolves_to_one_context(tmp_path: Path) -> None:
    resolved = kubeconfig.load(str(write(tmp_path / "config", document())), None)
    assert (resolved.context, resolved.server) == (CONTEXT, "https://203.0.113.10")
    assert resolved.document["users"] == [{"name": "user", "user": {"token": "t0ken"}}]
    assert resolved.document["clusters"][0]["cluster"]["certificate-authority-data"] == base64.b64encode(PEM).decode()


def test_json_and_yaml_read_alike(tmp_path: Path) -> None:
    as_json = kubeconfig.load(str(write(tmp_path / "a.json", json.dumps(document()))), None)
    as_yaml = kubeconfig.load(str(write(tmp_path / "a.yaml", document())), None)
    assert as_json == as_yaml.__class__(as_yaml.context, as_yaml.server, as_yaml.document, as_json.origin)


def test_files_named_relative_to_the_kubeconfig_become_data(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(PEM)
    (tmp_path / "token").write_text("from-file\n")
    doc = document(user={"tokenFile": "token"})
    del doc["clusters"][0]["cluster"]["certificate-authority-data"]
    doc["clusters"][0]["cluster"]["certificate-authority"] = "ca.pem"
    resolved = kubeconfig.load(str(write(tmp_path / "config", doc)), CONTEXT)
    assert resolved.document["users"][0]["user"] == {"token": "from-file"}
    assert base64.b64decode(resolved.document["clusters"][0]["cluster"]["certificate-authority-data"]) == PEM


def test_kubeconfig_list_first_file_wins_and_missing_files_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = document(server="https://first.example")
    first["contexts"] = []
    del first["current-context"]
    second = document(server="https://second.example", user={"token": "second"})
    second["clusters"].append({"name": "only-here", "cluster": {"server": "https://203.0.113.99"}})
    second["contexts"].append({"name": "other", "context": {"cluster": "only-here", "user": "prod"}})
    paths = [str(write(tmp_path / "one", first)), str(tmp_path / "missing"), str(write(tmp_path / "two", second))]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(paths))
    resolved = kubeconfig.load(None, None)
    assert (resolved.context, resolved.server) == (CONTEXT, "https://first.example")  # context of two, cluster of one
    assert resolved.document["users"][0]["user"] == {"token": "t0ken"}
    assert resolved.origin.startswith("$KUBECONFIG (") and "missing" not in resolved.origin
    assert kubeconfig.load(None, "other").server == "https://203.0.113.99"


def test_twenty_thousand_users_load_in_well_under_a_second_of_work(tmp_path: Path) -> None:
    users = 20_000
    lines = ["apiVersion: v1", "kind: Config", f"current-context: ctx-{users - 1}", "clusters:",
             "- name: prod", "  cluster:", "    server: https://203.0.113.10", "users:"]
    for i in range(users):
        lines += [f"- name: user-{i}", "  user:", f"    token: tok-{i:08d}-abcdefghijklmnopqrstuvwxyz0123456789"]
    lines.append("contexts:")
    for i in range(users):
        lines += [f"- name: ctx-{i}", "  context:", "    cluster: prod", f"    user: user-{i}", "    namespace: default"]
    path = write(tmp_path / "config", "\n".join(lines) + "\n")
    assert path.stat().st_size > 2_800_000
    started = time.process_time()  # CPU time: the machine running the suite may be busy
    resolved = kubeconfig.load(str(path), None)
    assert time.process_time() - started < 3.0  # 113 s through the client's loader; about 0.6 s here
    assert resolved.document["users"][0]["user"]["token"] == f"tok-{users - 1:08d}-abcdefghijklmnopqrstuvwxyz0123456789"


def test_the_preflight_parse_serves_the_client_and_a_rewrite_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = kubeconfig.parse

    def counted(text: str, name: str) -> Any:
        parsed.append(name)
        return real(text, name)
    monkeypatch.setattr(kubeconfig, "parse", counted)
    path = write(tmp_path / "config", document())
    preflight(str(path), None, "prod", ROOT)
    assert kubeconfig.load(str(path), CONTEXT).server == "https://203.0.113.10"
    assert len(parsed) == 1
    write(path, document(server="https://203.0.113.11"))  # the same size, within the same clock tick: the bytes decide
    assert kubeconfig.load(str(path), CONTEXT).server == "https://203.0.113.11" and len(parsed) == 2


# --- malformed files --------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), [
    ("clusters: [\n  - name: x\n", "is not valid YAML"),
    ("- apiVersion: v1\n- kind: Config\n", "must be a mapping (apiVersion: v1, kind: Config, clusters, users, contexts), found a list"),
    ("just text\n", "must be a mapping"),
    ("kind: Pod\n", "kind is 'Pod', not 'Config'"),
    ("clusters: {prod: {server: x}}\n", "clusters must be a list of {name, cluster}, found a mapping"),
    ("users: [token]\n", "users[0] must be a mapping with a non-empty text `name`"),
    ("contexts: [{name: a, context: x}]\n", "contexts[0].context must be a mapping, found text"),
    ("users: [{name: a}, {name: a}]\n", "users[1]: name 'a' appears twice in users"),
    ("a: 1\na: 2\n", "key 'a' appears twice in one mapping"),
    ("{1: x}\n", "a mapping key must be text, found a number"),
    ("base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys (<<) are not read"),
    ("kind: Config\n---\nkind: Config\n", "a second YAML document"),
    ("*0\n", "alias *0 names no anchor before it"),
    ("clusters: !!python/object:os.system x\n", "is not a kubeconfig value"),
    ("[" * 100 + "]" * 100, "more than 64 levels of nesting"),
    ("\n".join([f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" if i else "l0: &l0 [x, x, x, x, x, x, x, x, x, x]"
                for i in range(9)]) + "\n", "values (aliases counted as what they expand to)"),
])
def test_a_malformed_document_is_one_line_naming_the_file(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path / "config", content)
    message = refused(path)
    assert expected in message and str(path) in message


def test_not_utf8_names_the_offset(tmp_path: Path) -> None:
    assert "byte offset 7 is not UTF-8" in refused(write(tmp_path / "config", b"kind: C\xffonfig\n"))


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("server", "https://[::1", "clusters[0].cluster.server 'https://[::1' is not a server URL"),
    ("server", "https://host:port", "is not a server URL: Port could not be cast"),
    ("server", "ftp://203.0.113.10", "the scheme must be https"),
    ("server", "203.0.113.10", "the scheme must be https"),
    ("server", "https://", "there is no host"),
    ("server", "https://a b", "white space or a control character"),
    ("server", 443, "clusters[0].cluster.server must be text, found a number"),
    ("certificate-authority-data", "not base64!", "clusters[0].cluster.certificate-authority-data is not base64"),
    ("certificate-authority-data", base64.b64encode(b"not a pem").decode(), "holds no PEM block (-----BEGIN CERTIFICATE)"),
    ("insecure-skip-tls-verify", "yes please", "insecure-skip-tls-verify must be true or false"),
    ("proxy-url", "ftp://proxy", "proxy-url 'ftp://proxy' must be an http, https or socks5 URL"),
])
def test_a_bad_cluster_field_is_named(tmp_path: Path, field: str, value: Any, expected: str) -> None:
    doc = document()
    doc["clusters"][0]["cluster"][field] = value
    assert expected in refused(write(tmp_path / "config", doc))


@pytest.mark.parametrize(("user", "expected"), [
    ({"client-certificate-data": "@@@", "client-key-data": "@@@"}, "users[0].user.client-certificate-data is not base64"),
    ({"client-certificate-data": base64.b64encode(PEM).decode()}, "users[0].user.client-key (or client-key-data) is missing"),
    ({"token": ["a"]}, "users[0].user.token must be text, found a list"),
    ({"token": "abc\ndef"}, "users[0].user.token: the token holds white space, a control or a non-ASCII character"),
    ({"token": "€uro"}, "users[0].user.token: the token holds white space"),
    ({"auth-provider": {"name": "gcp"}}, "users[0].user.auth-provider: auth-provider plugins were removed"),
    ({"exec": "gcloud"}, "users[0].user.exec must be a mapping"),
    ({"exec": {"command": "x"}}, "users[0].user.exec.apiVersion is missing"),
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1alpha1", "command": "x"}}, "is not one of client.authentication.k8s.io/v1"),
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "args": "a b"}}, "exec.args must be a list of text"),
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "env": [{"name": "A"}]}}, "exec.env[0] must be a mapping"),
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "interactiveMode": "Always"}}, "has no terminal"),
])
def test_a_bad_user_field_is_named(tmp_path: Path, user: Json, expected: str) -> None:
    assert expected in refused(write(tmp_path / "config", document(user=user)))


def test_a_missing_or_unknown_context_names_what_there_is_and_the_gcloud_command(tmp_path: Path) -> None:
    path = write(tmp_path / "config", document())
    message = refused(path, "gke_coditect-staging_europe-west1_coditect-staging")
    assert f"has no context 'gke_coditect-staging_europe-west1_coditect-staging' (it has {CONTEXT})" in message
    assert "Fix: gcloud container clusters get-credentials coditect-staging --location europe-west1 --project coditect-staging" in message
    doc = document()
    del doc["current-context"]
    assert "sets no current-context and no --context was given" in refused(write(path, doc), None)
    doc = document()
    doc["contexts"][0]["context"]["cluster"] = "gone"
    assert "contexts[0].context.cluster names cluster 'gone', which no clusters[] entry has" in refused(write(path, doc))
    doc["contexts"][0]["context"] = {"cluster": "prod", "user": "gone"}
    assert "contexts[0].context.user names user 'gone', which no users[] entry has" in refused(write(path, doc))


def test_only_the_selected_context_is_judged(tmp_path: Path) -> None:
    doc = document()
    doc["clusters"].append({"name": "broken", "cluster": {"server": "not a url", "certificate-authority-data": "%%%"}})
    assert kubeconfig.load(str(write(tmp_path / "config", doc)), None).server == "https://203.0.113.10"  # as kubectl: others unread


# --- files that are not files -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "missing", "too-large"])
def test_a_token_file_that_is_not_a_small_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "token"
    if kind == "fifo":
        os.mkfifo(target)  # no writer: an open without O_NONBLOCK would wait for ever
    elif kind == "dev-zero":
        target = Path("/dev/zero")  # endless: a read without a cap takes all memory
    elif kind == "directory":
        target.mkdir()
    elif kind == "too-large":
        with target.open("wb") as sparse:
            sparse.truncate(kubeconfig.MAX_CREDENTIAL_BYTES + 1)
    started = time.monotonic()
    message = refused(write(tmp_path / "config", document(user={"tokenFile": str(target)})))
    assert time.monotonic() - started < 2
    assert "users[0].user.tokenFile" in message
    assert {"fifo": "is a FIFO, not a regular file", "dev-zero": "is a character device, not a regular file",
            "directory": "is a directory, not a regular file", "missing": "does not exist",
            "too-large": f"is larger than {kubeconfig.MAX_CREDENTIAL_BYTES} bytes"}[kind] in message


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "missing", "too-large"])
def test_a_kubeconfig_that_is_not_a_small_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "config"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev-zero":
        target = Path("/dev/zero")
    elif kind == "directory":
        target.mkdir()
    elif kind == "too-large":
        with target.open("wb") as sparse:
            sparse.truncate(kubeconfig.MAX_BYTES + 1)
    message = refused(target)
    assert f"kubeconfig (from --kubeconfig): {target}" in message
    assert {"fifo": "FIFO", "dev-zero": "character device", "directory": "directory", "missing": "does not exist",
            "too-large": "is larger than"}[kind] in message


# --- exec credential plugins -------------------------------------------------------------------------

def test_a_plugin_that_never_exits_is_killed_with_what_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kubeconfig, "EXEC_DEADLINE", 0.5)
    pidfile = tmp_path / "child"
    script = plugin(tmp_path, "hangs", f"sleep 1000 & echo $! > {pidfile}\nwait\n")
    started = time.monotonic()
    message = refused(write(tmp_path / "config", document(user=exec_user(script))))
    assert time.monotonic() - started < 5
    assert "credential plugin hangs did not finish within 0.5 s and was stopped. Fix: run `" in message
    child = int(pidfile.read_text())
    for _ in range(50):  # killed: gone, or a zombie awaiting a reaper
        state = Path(f"/proc/{child}/stat")
        if not state.exists() or state.read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the plugin's child survived")


def test_a_plugin_that_closes_its_output_but_stays_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kubeconfig, "EXEC_DEADLINE", 0.5)
    script = plugin(tmp_path, "lingers", "exec >&- 2>&-\nsleep 1000\n")
    assert "did not exit within 0.5 s and was stopped" in refused(write(tmp_path / "config", document(user=exec_user(script))))


def test_a_plugin_that_prints_without_end_is_capped(tmp_path: Path) -> None:
    script = plugin(tmp_path, "floods", "exec yes\n")
    message = refused(write(tmp_path / "config", document(user=exec_user(script))))
    assert f"credential plugin floods printed more than {kubeconfig.MAX_EXEC_OUTPUT} bytes and was stopped" in message


def test_a_failed_gke_plugin_says_gcloud_auth_login_not_rbac(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = plugin(tmp_path, "gke-gcloud-auth-plugin",
                    "echo 'ERROR: gcloud failed to load: Reauthentication failed. cannot prompt during non-interactive execution.' >&2\nexit 1\n")
    path = write(tmp_path / "config", document(user=exec_user(script, "client.authentication.k8s.io/v1")))
    code = main(["inspect", "prod", "--kubeconfig", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("error: credential plugin gke-gcloud-auth-plugin failed: exit status 1: ERROR: gcloud failed to load: Reauthentication "
                   "failed. cannot prompt during non-interactive execution.; fix: run `gcloud auth login` (the plugin uses gcloud's "
                   "account), then try again\n")
    assert "RBAC" not in err


def test_a_plugin_not_installed_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    message = refused(write(tmp_path / "config", document(user=exec_user("gke-gcloud-auth-plugin"))))
    assert "credential plugin gke-gcloud-auth-plugin (kubeconfig" in message and "users[0].user.exec.command) is not installed" in message
    assert "Fix: install it: gcloud components install gke-gcloud-auth-plugin" in message


@pytest.mark.parametrize(("prints", "expected"), [
    ("not json", "its answer is not JSON"),
    ("[]", "is not an ExecCredential"),
    (credential({"token": "x"}, "client.authentication.k8s.io/v1"), "has apiVersion 'client.authentication.k8s.io/v1', not the "
                                                                   "client.authentication.k8s.io/v1beta1"),
    (credential({"token": ""}), "holds neither status.token"),
    (json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential"}), "has no status"),
])
def test_a_plugin_answer_that_is_not_an_exec_credential_is_named(tmp_path: Path, prints: str, expected: str) -> None:
    (tmp_path / "answer").write_text(prints)
    script = plugin(tmp_path, "odd", f"cat {tmp_path / 'answer'}\n")
    message = refused(write(tmp_path / "config", document(user=exec_user(script))))
    assert message.startswith("credential plugin odd failed: its answer ") and expected in message


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        body = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_plugins_token_reaches_the_api_through_the_real_client(tmp_path: Path, recorder: str) -> None:
    (tmp_path / "answer").write_text(credential({"token": "from-plugin", "expirationTimestamp": "2030-01-01T00:00:00Z"}))
    info = tmp_path / "info"
    script = plugin(tmp_path, "good", f"printf '%s' \"$KUBERNETES_EXEC_INFO\" > {info}\ncat {tmp_path / 'answer'}\n")
    user = exec_user(script)
    user["exec"]["provideClusterInfo"] = True
    api = KubernetesApi(CONTEXT, str(write(tmp_path / "config", document(server=recorder, user=user))))
    try:
        from kubernetes import client

        assert api.call("list", "pods", "", "ns", client.CoreV1Api(api._client).list_namespaced_pod, "ns", what="pods in ns") is not None
    finally:
        api.close()
    assert Recorder.seen == [("/api/v1/namespaces/ns/pods", "Bearer from-plugin")]
    sent = json.loads(info.read_text())
    assert sent["kind"] == "ExecCredential" and sent["spec"]["interactive"] is False and sent["spec"]["cluster"]["server"] == recorder


def test_a_plugins_token_that_no_header_can_carry_is_refused(tmp_path: Path) -> None:
    (tmp_path / "answer").write_text(credential({"token": "two\nlines"}))
    script = plugin(tmp_path, "multiline", f"cat {tmp_path / 'answer'}\n")
    assert "users[0].user.exec (the plugin's status.token): the token holds white space" in refused(
        write(tmp_path / "config", document(user=exec_user(script))))


def test_a_plugins_client_certificate_is_handed_to_the_client(tmp_path: Path) -> None:
    (tmp_path / "answer").write_text(credential({"clientCertificateData": PEM.decode(), "clientKeyData": KEY.decode()}))
    script = plugin(tmp_path, "certs", f"cat {tmp_path / 'answer'}\n")
    configuration = kubeconfig.client_configuration(CONTEXT, str(write(tmp_path / "config", document(user=exec_user(script)))))
    assert Path(str(configuration.cert_file)).read_bytes() == PEM and Path(str(configuration.key_file)).read_bytes() == KEY


# --- no kubeconfig at all: said before rendering, with the command that writes one ------------------------

def test_no_kubeconfig_names_the_get_credentials_command_of_the_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    for command in (["inspect", "prod"], ["probe", "prod", "--peer", "10.52.1.9:8080"]):
        assert main(command) == 2
        assert capsys.readouterr().err == (
            "error: no kubeconfig: --kubeconfig not given, $KUBECONFIG not set and ~/.kube/config does not exist. Fix: gcloud container "
            "clusters get-credentials coditect-prod --location us-central1 --project coditect-prod (writes context "
            "gke_coditect-prod_us-central1_coditect-prod to ~/.kube/config)\n")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert main(["inspect", "local"]) == 2
    assert "no file of $KUBECONFIG" in (err := capsys.readouterr().err) and "Fix: python -m ops cluster start" in err


@pytest.mark.parametrize(("command", "said"), [
    (["inspect", "prod", "--wait", "nan"], "error: --wait, --interval and --timeout take finite seconds"),
    (["probe", "prod", "--peer", "10.52.1.9"], "error: --peer '10.52.1.9' must be HOST:PORT"),
    (["probe", "prod", "--peer", "10.52.1.9:8080", "--deadline", "5"], "error: --deadline must be 10..3600 s"),
])
def test_a_bad_argument_is_said_before_a_missing_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                            command: list[str], said: str) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert main(command) == 2
    assert capsys.readouterr().err.startswith(said)


def test_no_kubeconfig_is_refused_in_well_under_a_second_as_a_whole_process(tmp_path: Path) -> None:
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"HOME": str(tmp_path)}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "ops", "inspect", "prod"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 2 and "gcloud container clusters get-credentials coditect-prod" in result.stderr
    assert elapsed < 3.0  # about 0.3 s; rendering alone takes seconds (7.5 s in all before this check came first)


def test_a_malformed_kubeconfig_is_refused_before_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import ops.inspect.run as inspect_run

    def never(*_: Any) -> Any:
        raise AssertionError("rendered before the kubeconfig was checked")
    monkeypatch.setattr(inspect_run, "desired_state", never)
    path = write(tmp_path / "config", "- a list\n")
    assert main(["inspect", "prod", "--kubeconfig", str(path)]) == 2
    assert "must be a mapping" in capsys.readouterr().err
    doc = document()
    doc["contexts"][0]["name"] = "elsewhere"
    assert main(["inspect", "prod", "--kubeconfig", str(write(path, doc))]) == 2
    assert f"has no context '{CONTEXT}' (it has elsewhere)" in capsys.readouterr().err


# --- generated: any kubeconfig gives a resolution or one clear refusal ------------------------------------

JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
PLACES: list[tuple[str | int, ...]] = [
    (), ("clusters",), ("clusters", 0), ("clusters", 0, "name"), ("clusters", 0, "cluster"), ("clusters", 0, "cluster", "server"),
    ("clusters", 0, "cluster", "certificate-authority-data"), ("clusters", 0, "cluster", "certificate-authority"),
    ("clusters", 0, "cluster", "insecure-skip-tls-verify"), ("clusters", 0, "cluster", "proxy-url"), ("users",), ("users", 0),
    ("users", 0, "user"), ("users", 0, "user", "token"), ("users", 0, "user", "tokenFile"), ("users", 0, "user", "exec"),
    ("users", 0, "user", "client-certificate-data"), ("users", 0, "user", "client-key"), ("contexts",), ("contexts", 0),
    ("contexts", 0, "context"), ("contexts", 0, "context", "cluster"), ("contexts", 0, "context", "user"), ("current-context",),
    ("kind",), ("apiVersion",),
]


def _put(doc: Any, place: tuple[str | int, ...], value: Any) -> Any:
    if not place:
        return value
    *parents, last = place
    target = doc
    for key in parents:
        target = target[key]
    target[last] = value
    return doc


def _judged(path: Path) -> None:
    """A resolution or one Unusable line; plugins are not run (a generated command could be anything)."""
    try:
        kubeconfig.resolve(kubeconfig.read(kubeconfig.require_present(str(path), CONTEXT)), CONTEXT, run_plugins=False)
    except Unusable as error:
        assert str(error).isprintable() and len(str(error)) < 1500  # one line, no terminal control characters


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(PLACES), JUNK), min_size=1, max_size=3), st.booleans())
def test_generated_malformed_kubeconfigs_are_refused_in_one_line(tmp_path: Path, changes: list[tuple[tuple[str | int, ...], Any]],
                                                               as_json: bool) -> None:
    doc: Any = document()
    for place, value in changes:
        try:
            doc = _put(doc, place, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the parent
    text = json.dumps(doc) if as_json else yaml.safe_dump(doc)
    _judged(write(tmp_path / "config", text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \n\tabc01")), max_size=120)))
def test_generated_hostile_text_is_refused_in_one_line(tmp_path: Path, raw: bytes | str) -> None:
    _judged(write(tmp_path / "config", raw))


HOSTILE_TEXT = st.text(alphabet=st.sampled_from(list("\x00\x1b\n\t ~/.:[]@%=-_aZ09\u00e9\ud7ff")), max_size=40)
TEXT_PLACES = [p for p in PLACES if len(p) == 4 or p == ("current-context",)] + [
    ("users", 0, "user", "exec", "command"), ("users", 0, "user", "exec", "args", 0), ("users", 0, "user", "exec", "env", 0, "name")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(TEXT_PLACES), HOSTILE_TEXT | st.from_regex(r"[0-9]{90,5000}", fullmatch=True))
def test_generated_hostile_strings_in_every_text_field_are_refused_in_one_line(tmp_path: Path, place: tuple[str | int, ...], value: str) -> None:
    doc = document(user={"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "true", "args": ["a"],
                                  "env": [{"name": "A", "value": "b"}]}})
    _put(doc, place, value)
    for as_json in (True, False):
        path = write(tmp_path / "config", json.dumps(doc) if as_json else yaml.safe_dump(doc))
        try:
            kubeconfig.load(str(path), CONTEXT, exec_deadline=2.0)  # `true` prints nothing: refused, or the value made it unrunnable
        except Unusable as error:
            assert str(error).isprintable()
