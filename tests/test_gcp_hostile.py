"""Hostile Google Cloud answers to `ops inspect`'s Compute Engine and Container API reads (issue 19,
classes 1 and 2), through google-auth's session (Compute) and the real google-cloud-container client.

A server that trickles, never ends, bombs or sends something other than the API's object ends as one
line (exit 1, "error: API: object: what was wrong"), within --timeout; a 401 or credentials that cannot
be had are "credentials refused" with the fix, a 403 names the IAM permission (EXIT_NO_ACCESS).

Here: the readers against each hostile server, and the caps. Credentials: test_gcp_hostile_credentials.py;
through `ops inspect`: test_gcp_hostile_inspect.py; generated answers: test_gcp_hostile_generated.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from livestate.bounds import MAX_BODY_BYTES
from livestate.compute import ComputeReader
from livestate.container import ClusterReader
from livestate.gcp_http import BoundedAdapter
from livestate.model import CredentialsRefused, Malformed
from tests.gcp_hostile_helpers import CLUSTER, EXPECTED, SLACK_S, TIMEOUT, backend_service_of, warm_bombs
from tests.hostile_server import GCP_BEHAVIOURS, HostileServer, google_answer, gzip_answer, trickle_body
from tests.standin.world import PROJECT, fixture


@pytest.fixture(scope="module", autouse=True)
def bombs_ready() -> None:
    warm_bombs()


READERS: dict[str, Callable[[str, float], Any]] = {
    "compute": lambda url, timeout: ComputeReader(PROJECT, url, timeout).get("backendServices", "k8s1-abc"),
    "container": lambda url, timeout: ClusterReader(url, timeout).get(CLUSTER),
}
WHAT = {"compute": "Compute Engine API: backendServices/k8s1-abc: ", "container": f"Kubernetes Engine API: cluster {CLUSTER.resource}: "}


def test_every_hostile_behaviour_has_an_expectation() -> None:
    assert set(EXPECTED) == set(GCP_BEHAVIOURS)


@pytest.mark.parametrize("api", sorted(READERS))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hostile_answer_ends_as_one_clear_error_within_the_deadline(name: str, api: str) -> None:
    kind, phrase = EXPECTED[name]
    with HostileServer(GCP_BEHAVIOURS[name]) as server:
        start = time.monotonic()
        with pytest.raises(kind) as raised:
            READERS[api](server.url(""), TIMEOUT)
        took = time.monotonic() - start
    message = str(raised.value)
    assert phrase in message, message
    assert took < TIMEOUT + SLACK_S, f"{name}: {took:.2f} s"
    assert message.isprintable(), message  # a server's escape sequences are escaped, never printed raw
    if kind is Malformed:
        assert message.startswith(WHAT[api]), message
    if kind is CredentialsRefused:
        assert "gcloud auth application-default login" in message and "grant" not in message


def test_a_trickle_at_a_byte_a_tick_ends_at_the_deadline_not_the_per_read_timeout() -> None:
    """Each byte arrives within any per-read timeout: only the total deadline stops it, and on time."""
    with HostileServer(trickle_body) as server:
        start = time.monotonic()
        with pytest.raises(Malformed, match="not done within the 1 s deadline"):
            ComputeReader(PROJECT, server.url(""), 1.0).get("healthChecks", "k8s1-abc")
        took = time.monotonic() - start
    assert 1.0 <= took < 1.0 + SLACK_S


def test_an_answer_just_under_the_caps_passes_and_one_just_over_is_refused() -> None:
    for size, passes in ((MAX_BODY_BYTES - 100, True), (MAX_BODY_BYTES + 100, False)):
        with HostileServer(google_answer("200 OK", backend_service_of(size))) as plain, HostileServer(gzip_answer(backend_service_of(size))) as zipped:
            for server in (plain, zipped):
                reader = ComputeReader(PROJECT, server.url(""), 5.0)
                if passes:
                    assert (reader.get("backendServices", "k8s1-abc") or {})["name"] == fixture("compute_backend_service")["name"]
                else:
                    with pytest.raises(Malformed, match=f"more than {MAX_BODY_BYTES} bytes"):
                        reader.get("backendServices", "k8s1-abc")


def test_a_gzip_answer_is_decoded_and_the_session_asks_only_for_what_it_decodes() -> None:
    body = backend_service_of(5000)
    with HostileServer(gzip_answer(body)) as server:
        data = ComputeReader(PROJECT, server.url(""), 5.0).get("backendServices", "k8s1-abc")
    assert data and data["name"] == json.loads(body)["name"] and len(data["description"]) > 3000
    assert BoundedAdapter(1.0).seconds == 1.0


def test_a_name_from_another_answer_that_is_no_compute_name_is_malformed() -> None:
    """An annotation naming "../x" would otherwise reach the transport's URL template (ValueError)."""
    for name in ("../x", "a/b", "", "A", "x" * 64, "k8s1-abc\n"):
        with pytest.raises(Malformed, match="is not a Compute Engine resource name"):
            ComputeReader(PROJECT, "http://127.0.0.1:9", TIMEOUT).get("urlMaps", name)
