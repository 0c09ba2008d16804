"""Exec credential plugins (livestate/kubeconfig/exec_plugin.py): a plugin that hangs, lingers or floods is stopped
within bounds, a failed or missing one says how to fix it (never an RBAC problem), a bad answer is named, and a
good token or client certificate reaches the API through the real `kubernetes` client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from livestate import kubeconfig
from livestate.kube import KubernetesApi
from ops.__main__ import main
from tests.kubeconfig_helpers import KEY, PEM, credential, document, exec_user, plugin, refused, write
from tests.standin.world import CONTEXT

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
    script = plugin(
        tmp_path,
        "gke-gcloud-auth-plugin",
        "echo 'ERROR: gcloud failed to load: Reauthentication failed. cannot prompt during non-interactive execution.' >&2\nexit 1\n",
    )
    path = write(tmp_path / "config", document(user=exec_user(script, "client.authentication.k8s.io/v1")))
    code = main(["inspect", "prod", "--kubeconfig", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "error: credential plugin gke-gcloud-auth-plugin failed: exit status 1: ERROR: gcloud failed to load: Reauthentication "
        "failed. cannot prompt during non-interactive execution.; fix: run `gcloud auth login` (the plugin uses gcloud's "
        "account), then try again\n"
    )
    assert "RBAC" not in err


def test_a_plugin_not_installed_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    message = refused(write(tmp_path / "config", document(user=exec_user("gke-gcloud-auth-plugin"))))
    assert "credential plugin gke-gcloud-auth-plugin (kubeconfig" in message and "users[0].user.exec.command) is not installed" in message
    assert "Fix: install it: gcloud components install gke-gcloud-auth-plugin" in message


@pytest.mark.parametrize(
    ("prints", "expected"),
    [
        ("not json", "its answer is not JSON"),
        ("[]", "is not an ExecCredential"),
        (
            credential({"token": "x"}, "client.authentication.k8s.io/v1"),
            "has apiVersion 'client.authentication.k8s.io/v1', not the client.authentication.k8s.io/v1beta1",
        ),
        (credential({"token": ""}), "holds neither status.token"),
        (json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential"}), "has no status"),
    ],
)
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
        write(tmp_path / "config", document(user=exec_user(script)))
    )


def test_a_plugins_client_certificate_is_handed_to_the_client(tmp_path: Path) -> None:
    (tmp_path / "answer").write_text(credential({"clientCertificateData": PEM.decode(), "clientKeyData": KEY.decode()}))
    script = plugin(tmp_path, "certs", f"cat {tmp_path / 'answer'}\n")
    configuration = kubeconfig.client_configuration(CONTEXT, str(write(tmp_path / "config", document(user=exec_user(script)))))
    assert Path(str(configuration.cert_file)).read_bytes() == PEM and Path(str(configuration.key_file)).read_bytes() == KEY
