"""Generated Google Cloud answers (issue 19, fixed hypothesis budgets): any mutation of the API's object parses or
is Malformed, an error answer keeps its status's meaning, a gzip answer passes exactly up to the decoded cap,
and error_body keeps only a Google API error."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livestate.bounds import MAX_BODY_BYTES, MAX_DECODED_BYTES
from livestate.compute import ComputeReader
from livestate.container import ClusterReader
from livestate.gcp_http import error_body
from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable
from tests.gcp_hostile_helpers import CLUSTER, backend_service_of
from tests.hostile_server import HostileServer, gzip_answer
from tests.standin.servers import ComputeHandler, serving
from tests.standin.world import PROJECT, World, fixture, healthy_world

# --- generated answers -----------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _mutations(body: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """The API's object with one field replaced by any JSON value, cut at any byte, or wrapped in a list."""
    encoded = json.dumps(body).encode()
    replaced = st.tuples(st.sampled_from(sorted(body)), JSON_VALUES).map(lambda kv: json.dumps(body | {kv[0]: kv[1]}).encode())
    cut = st.integers(0, len(encoded) - 1).map(lambda n: encoded[:n])
    wrapped = st.just(json.dumps([body]).encode())
    return st.one_of(replaced, cut, wrapped, JSON_VALUES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64))


@pytest.fixture(scope="module")
def standin() -> Iterator[tuple[World, str]]:
    world = healthy_world()
    with serving(ComputeHandler, world) as url:
        yield world, url


def _outcome(read: Callable[[], Any], body: bytes) -> None:
    """A generated answer is parsed (a JSON object) or Malformed; no other exception leaves the reader."""
    try:
        data = read()
    except Malformed as malformed:
        assert malformed.what and malformed.problem
        return
    assert isinstance(data, dict)
    assert isinstance(json.loads(body), dict)  # only a JSON object can have been taken for the object


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_mutations(fixture("compute_backend_service")))
def test_generated_compute_answers_parse_or_are_malformed(standin: tuple[World, str], body: bytes) -> None:
    world, url = standin
    world.gcp_raw[f"/compute/v1/projects/{PROJECT}/global/backendServices/k8s1-abc"] = (200, "application/json", body)
    _outcome(lambda: ComputeReader(PROJECT, url, 5.0).get("backendServices", "k8s1-abc"), body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_mutations(fixture("container_cluster")))
def test_generated_cluster_answers_parse_or_are_malformed(standin: tuple[World, str], body: bytes) -> None:
    world, url = standin
    world.gcp_raw["/v1/" + CLUSTER.resource] = (200, "application/json", body)
    _outcome(lambda: ClusterReader(url, 5.0).get(CLUSTER), body)


ERRORS: dict[int, type[Exception] | None] = {401: CredentialsRefused, 403: AccessDenied, 404: None, 429: Unreachable, 500: Unreachable, 503: Unreachable}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.sampled_from(sorted(ERRORS)),
    body=st.one_of(JSON_VALUES.map(lambda v: json.dumps({"error": v}).encode()), JSON_VALUES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64)),
)
def test_generated_error_answers_keep_their_status_meaning(standin: tuple[World, str], status: int, body: bytes) -> None:
    world, url = standin
    world.gcp_raw[f"/compute/v1/projects/{PROJECT}/global/healthChecks/k8s1-abc"] = (status, "application/json", body)
    expected = ERRORS[status]
    if expected is None:
        assert ComputeReader(PROJECT, url, 5.0).get("healthChecks", "k8s1-abc") is None
    else:
        with pytest.raises(expected) as raised:
            ComputeReader(PROJECT, url, 5.0).get("healthChecks", "k8s1-abc")
        assert str(raised.value).isprintable()


@settings(max_examples=12, deadline=None)
@given(inflated=st.integers(MAX_DECODED_BYTES - 4096, MAX_DECODED_BYTES + 4096))
def test_generated_gzip_answers_pass_exactly_up_to_the_decoded_cap(inflated: int) -> None:
    body = backend_service_of(inflated)
    with HostileServer(gzip_answer(body)) as server:
        reader = ComputeReader(PROJECT, server.url(""), 5.0)
        if len(body) <= MAX_DECODED_BYTES:
            assert (reader.get("backendServices", "k8s1-abc") or {})["description"]
        else:
            with pytest.raises(Malformed, match="once decompressed"):
                reader.get("backendServices", "k8s1-abc")
    assert len(zlib.compress(body)) < MAX_BODY_BYTES  # it was the decoded cap that decided


def test_error_body_keeps_a_google_error_and_replaces_anything_else() -> None:
    good = json.dumps({"error": {"code": 403, "message": "denied", "errors": [], "details": [{"@type": "x"}]}}).encode()
    assert error_body(403, good) == good
    for bad in (b"[1]", b'{"error": "x"}', b'{"error": {"details": [1]}}', b'{"error": {"message": 5}}', b"\xff", b""):
        replaced = json.loads(error_body(500, bad))
        assert replaced["error"]["message"].startswith("HTTP 500 with a body that is not a Google API error")
