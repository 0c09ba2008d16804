"""Where the kubeconfig loader (livestate/kubeconfig/sources.py) reads from: a kubeconfig or token file that is a
FIFO, a device, a directory, missing or too large is refused at once; no kubeconfig at all is said before rendering,
with the command that writes one."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from livestate import kubeconfig
from ops.__main__ import main
from tests.kubeconfig_helpers import ROOT, document, refused, write
from tests.standin.world import CONTEXT

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
    assert {
        "fifo": "is a FIFO, not a regular file",
        "dev-zero": "is a character device, not a regular file",
        "directory": "is a directory, not a regular file",
        "missing": "does not exist",
        "too-large": f"is larger than {kubeconfig.MAX_CREDENTIAL_BYTES} bytes",
    }[kind] in message


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
    assert {"fifo": "FIFO", "dev-zero": "character device", "directory": "directory", "missing": "does not exist", "too-large": "is larger than"}[
        kind
    ] in message


# --- no kubeconfig at all: said before rendering, with the command that writes one ------------------------


def test_no_kubeconfig_names_the_get_credentials_command_of_the_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    for command in (["inspect", "prod"], ["probe", "prod", "--peer", "10.52.1.9:8080"]):
        assert main(command) == 2
        assert capsys.readouterr().err == (
            "error: no kubeconfig: --kubeconfig not given, $KUBECONFIG not set and ~/.kube/config does not exist. Fix: gcloud container "
            "clusters get-credentials coditect-prod --location us-central1 --project coditect-prod (writes context "
            "gke_coditect-prod_us-central1_coditect-prod to ~/.kube/config)\n"
        )
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert main(["inspect", "local"]) == 2
    assert "no file of $KUBECONFIG" in (err := capsys.readouterr().err) and "Fix: python -m ops cluster start" in err


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["inspect", "prod", "--wait", "nan"], "error: --wait, --interval and --timeout take finite seconds"),
        (["probe", "prod", "--peer", "10.52.1.9"], "error: --peer '10.52.1.9' must be HOST:PORT"),
        (["probe", "prod", "--peer", "10.52.1.9:8080", "--deadline", "5"], "error: --deadline must be 10..3600 s"),
    ],
)
def test_a_bad_argument_is_said_before_a_missing_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str], said: str
) -> None:
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


def test_a_malformed_kubeconfig_is_refused_before_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
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
