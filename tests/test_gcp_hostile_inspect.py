"""Hostile Google Cloud answers through `ops inspect` against the strict stand-ins (issue 19): an unparsable answer
is one line naming the API and object, 401 is told from 403, and a hostile endpoint ends within --timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ops.inspect.run as inspect_run
from livestate.desired import StackTarget, with_cluster
from ops.__main__ import main
from ops.errors import EXIT_NO_ACCESS
from ops.program import ROOT
from ops.stack_check import settings_for
from tests.gcp_hostile_helpers import EXPECTED, SLACK_S, TIMEOUT, warm_bombs
from tests.hostile_server import GCP_BEHAVIOURS, GOOGLE_ERROR_401, HostileServer
from tests.standin.harness import Running, golden_desired, running
from tests.standin.world import CONTEXT, PROJECT, World, healthy_world


@pytest.fixture(scope="module", autouse=True)
def bombs_ready() -> None:
    warm_bombs()


# --- through `ops inspect`, against the strict stand-ins ------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """The prod stack (golden render, Pulumi.prod.yaml's cluster declaration) against a converged world."""
    target = with_cluster(StackTarget(CONTEXT, PROJECT), settings_for("prod", ROOT)[2])
    monkeypatch.setattr(inspect_run, "desired_state", lambda stack, root: (golden_desired(), target))
    with running(healthy_world(), tmp_path) as standins:
        yield standins


def inspect(standins: Running, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["inspect", "prod", "--kubeconfig", str(standins.kubeconfig), "--gcp-endpoint", standins.compute_url, *extra])
    return code, capsys.readouterr().err


def backend_service_path(world: World) -> str:
    return f"/compute/v1/projects/{PROJECT}/global/backendServices/{world.backend_service_name}"


def cluster_path(world: World) -> str:
    return "/v1/" + next(iter(world.clusters))


MALFORMED_ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "truncated JSON": (200, "application/json", b'{"name": "k8s1-abc", "backends": [{"gro'),
    "HTML page with status 200": (200, "text/html; charset=UTF-8", b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"),
    "a list where the object belongs": (200, "application/json", b'[{"name": "k8s1-abc"}]'),
    "a field of the wrong type (ParseError)": (200, "application/json", b'{"name": "k8s1-abc", "timeoutSec": "30s", "currentNodeCount": "three"}'),
    "not UTF-8": (200, "application/json", b'{"name": "\xff"}'),
}


@pytest.mark.parametrize("answer", sorted(MALFORMED_ANSWERS))
@pytest.mark.parametrize("api", ["compute", "container"])
def test_inspect_turns_an_unparsable_answer_into_one_line_naming_api_and_object(
    live: Running, capsys: pytest.CaptureFixture[str], api: str, answer: str
) -> None:
    path = backend_service_path(live.world) if api == "compute" else cluster_path(live.world)
    live.world.gcp_raw[path] = MALFORMED_ANSWERS[answer]
    code, err = inspect(live, capsys)
    assert code == 1, err
    what = (
        f"Compute Engine API: backendServices/{live.world.backend_service_name}: "
        if api == "compute"
        else f"Kubernetes Engine API: cluster {next(iter(live.world.clusters))}: "
    )
    assert err.startswith("error: " + what) and err.count("\n") == 1 and "not the API's object" in err, err


def test_inspect_tells_401_from_403(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    path = backend_service_path(live.world)
    live.world.gcp_raw[path] = (401, "application/json", GOOGLE_ERROR_401.encode())
    code, err = inspect(live, capsys)
    assert code == 1 and err.startswith("error: Compute Engine API refused the credentials: HTTP 401") and err.count("\n") == 1, err
    assert "Fix: gcloud auth application-default login" in err and "grant" not in err
    del live.world.gcp_raw[path]
    live.world.compute_forbidden.add("backendServices")
    code, err = inspect(live, capsys)
    assert code == EXIT_NO_ACCESS and "grant IAM permission compute.backendServices.get on project coditect-prod" in err, err


def test_inspect_reads_a_cluster_401_as_credentials_refused(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.gcp_raw[cluster_path(live.world)] = (401, "application/json", GOOGLE_ERROR_401.encode())
    code, err = inspect(live, capsys)
    assert code == 1 and err.startswith("error: Kubernetes Engine API refused the credentials: HTTP 401"), err


def test_a_403_whose_body_is_not_a_google_error_still_names_the_permission(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.gcp_raw[backend_service_path(live.world)] = (403, "text/html", b"<html>\x1b[2J denied</html>")
    code, err = inspect(live, capsys)
    assert code == EXIT_NO_ACCESS and "grant IAM permission compute.backendServices.get" in err and "\x1b" not in err, err


@pytest.mark.parametrize(
    ("api", "name"),
    [("compute", "trickle_body"), ("compute", "endless_body"), ("compute", "gzip_bomb"), ("container", "trickle_body"), ("container", "gzip_bomb")],
)
def test_inspect_ends_a_hostile_google_endpoint_within_the_timeout(live: Running, capsys: pytest.CaptureFixture[str], api: str, name: str) -> None:
    with HostileServer(GCP_BEHAVIOURS[name]) as server:
        start = time.monotonic()
        code, err = inspect(live, capsys, f"--{api}-endpoint", server.url(""), "--timeout", str(TIMEOUT))
        took = time.monotonic() - start
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1 and EXPECTED[name][1] in err, err
    assert took < 3 * TIMEOUT + 2 * SLACK_S  # the Kubernetes reads before it take their own (fast) time
