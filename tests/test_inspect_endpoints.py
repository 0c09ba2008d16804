"""One endpoint per Google API (Private Service Connect gives Compute and Kubernetes Engine each its own):
--compute-endpoint and --container-endpoint, with --gcp-endpoint for one stand-in serving both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import ops.inspect.run as inspect_run
from livestate.desired import StackTarget, with_cluster
from ops.__main__ import main
from ops.program import ROOT
from ops.stack_check import settings_for
from tests.standin.harness import Running, closed_port_url, golden_desired, running
from tests.standin.servers import ComputeHandler, serving
from tests.standin.world import CONTEXT, PROJECT, healthy_world


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """The prod stack with its cluster declaration, so both the Compute and the Container API are read."""
    target = with_cluster(StackTarget(CONTEXT, PROJECT), settings_for("prod", ROOT)[2])
    monkeypatch.setattr(inspect_run, "desired_state", lambda stack, root: (golden_desired(), target))
    with running(healthy_world(), tmp_path) as standins:
        yield standins


def test_each_api_is_read_at_its_own_endpoint(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    container_world = healthy_world()
    with serving(ComputeHandler, container_world) as container_url:
        code = main(["inspect", "prod", "--kubeconfig", str(live.kubeconfig), "--compute-endpoint", live.compute_url, "--container-endpoint", container_url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert {api for api, _, _ in live.world.requests} == {"kubernetes", "compute"}
    assert {api for api, _, _ in container_world.requests} == {"container"}


def test_the_per_api_flags_take_precedence_over_gcp_endpoint(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "inspect",
            "prod",
            "--kubeconfig",
            str(live.kubeconfig),
            "--gcp-endpoint",
            closed_port_url(),
            "--compute-endpoint",
            live.compute_url,
            "--container-endpoint",
            live.compute_url,
        ]
    )
    assert code == 0, capsys.readouterr()
    assert {api for api, _, _ in live.world.requests} == {"kubernetes", "compute", "container"}


def test_gcp_endpoint_fills_the_api_without_its_own_flag(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "prod", "--kubeconfig", str(live.kubeconfig), "--gcp-endpoint", live.compute_url, "--container-endpoint", closed_port_url()])
    captured = capsys.readouterr()
    assert code == 1 and "Kubernetes Engine API" in captured.err and "unreachable" in captured.err


@pytest.mark.parametrize("flag", ["--compute-endpoint", "--container-endpoint"])
def test_an_endpoint_that_is_not_a_url_exits_2_naming_the_flag(live: Running, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    code = main(["inspect", "prod", "--kubeconfig", str(live.kubeconfig), flag, "compute.internal"])
    assert code == 2 and flag in capsys.readouterr().err
