"""Hostile Google Cloud answers to `ops inspect`'s Compute Engine and Container API reads (issue 19,
classes 1 and 2), through the real google-cloud-compute and google-cloud-container clients.

A server that trickles, never ends, bombs or sends something other than the API's object ends as one
line (exit 1, "error: API: object: what was wrong"), within --timeout; a 401 or credentials that cannot
be had are "credentials refused" with the fix, a 403 names the IAM permission (EXIT_NO_ACCESS)."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ops.inspect.run as inspect_run
from livestate.bounds import MAX_BODY_BYTES, MAX_DECODED_BYTES
from livestate.compute import ComputeReader
from livestate.container import ClusterReader, ClusterRef
from livestate.desired import StackTarget, with_cluster
from livestate.gcp_http import BoundedAdapter, error_body
from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable
from ops.__main__ import main
from ops.errors import EXIT_NO_ACCESS
from ops.program import ROOT
from ops.stack_check import settings_for
from tests.hostile_server import GCP_BEHAVIOURS, GOOGLE_ERROR_401, HostileServer, bomb, google_answer, gzip_answer, trickle_body
from tests.standin.harness import Running, golden_desired, running
from tests.standin.servers import ComputeHandler, serving
from tests.standin.world import CONTEXT, PROJECT, World, fixture, healthy_world

TIMEOUT = 0.5
SLACK_S = 2.0  # a loaded 2-core machine: thread start-up, the first import of a client, a slow close
CLUSTER = ClusterRef(PROJECT, "us-central1", "coditect-prod")
READERS: dict[str, Callable[[str, float], Any]] = {
    "compute": lambda url, timeout: ComputeReader(PROJECT, url, timeout).get("backendServices", "k8s1-abc"),
    "container": lambda url, timeout: ClusterReader(url, timeout).get(CLUSTER),
}
WHAT = {"compute": "Compute Engine API: backendServices/k8s1-abc: ", "container": f"Kubernetes Engine API: cluster {CLUSTER.resource}: "}
# behaviour -> (what the reader raises, a phrase its message holds)
EXPECTED: dict[str, tuple[type[Exception], str]] = {
    "hang": (Unreachable, f"response headers: not done within the {TIMEOUT:g} s deadline"),
    "trickle_headers": (Unreachable, f"response headers: not done within the {TIMEOUT:g} s deadline"),
    "trickle_body": (Malformed, f"response body: not done within the {TIMEOUT:g} s deadline"),
    "endless_body": (Malformed, f"more than {MAX_BODY_BYTES} bytes (the cap on a response body)"),
    "huge_headers": (Unreachable, "ConnectionError"),
    "not_http": (Unreachable, "ConnectionError"),
    "gzip_bomb": (Malformed, f"more than {MAX_DECODED_BYTES} bytes once decompressed"),
    "deflate_bomb": (Malformed, f"more than {MAX_DECODED_BYTES} bytes once decompressed"),
    "corrupt_gzip": (Malformed, "a corrupt gzip body"),
    "unknown_coding": (Malformed, "a body in 'br', which was not asked for"),
    "cut_short": (Malformed, "the body broke off after 20 bytes"),
    "truncated_json": (Malformed, "not the API's object: Failed to load JSON"),
    "html_200": (Malformed, "not the API's object (a JSON object) but '<!DOCTYPE html>"),
    "list_for_object": (Malformed, "not the API's object"),
    "wrong_type": (Malformed, "not the API's object: Failed to parse"),
    "not_utf8": (Malformed, "not the API's object: 'utf-8' codec can't decode"),
    "deep_nesting": (Malformed, "not the API's object"),
    "escape_sequences": (Malformed, "not the API's object"),
    "unauthenticated_401": (CredentialsRefused, "HTTP 401"),
    "forbidden_403": (AccessDenied, "Required 'compute.backendServices.get' permission"),
    "forbidden_403_list_body": (AccessDenied, "HTTP 403 with a body that is not a Google API error: '[1, 2]'"),
    "error_500_string_error": (Unreachable, "HTTP 500 with a body that is not a Google API error"),
    "error_502_html": (Unreachable, "HTTP 502 with a body that is not a Google API error"),
}


@pytest.fixture(scope="module", autouse=True)
def warm_bombs() -> None:
    """The bombs compressed before any test starts its clock (64 MiB at level 9 takes the server a second)."""
    bomb("gzip")
    bomb("deflate")


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


def _backend_service_of(size: int) -> bytes:
    """The healthy backend service, padded with a description to `size` bytes of JSON."""
    body = fixture("compute_backend_service") | {"description": ""}
    empty = len(json.dumps(body).encode())
    return json.dumps(body | {"description": "x" * (size - empty)}).encode()


def test_an_answer_just_under_the_caps_passes_and_one_just_over_is_refused() -> None:
    for size, passes in ((MAX_BODY_BYTES - 100, True), (MAX_BODY_BYTES + 100, False)):
        with HostileServer(google_answer("200 OK", _backend_service_of(size))) as plain, \
             HostileServer(gzip_answer(_backend_service_of(size))) as zipped:
            for server in (plain, zipped):
                reader = ComputeReader(PROJECT, server.url(""), 5.0)
                if passes:
                    assert (reader.get("backendServices", "k8s1-abc") or {})["name"] == fixture("compute_backend_service")["name"]
                else:
                    with pytest.raises(Malformed, match=f"more than {MAX_BODY_BYTES} bytes"):
                        reader.get("backendServices", "k8s1-abc")


def test_a_gzip_answer_is_decoded_and_the_session_asks_only_for_what_it_decodes() -> None:
    body = _backend_service_of(5000)
    with HostileServer(gzip_answer(body)) as server:
        data = ComputeReader(PROJECT, server.url(""), 5.0).get("backendServices", "k8s1-abc")
    assert data and data["name"] == json.loads(body)["name"] and len(data["description"]) > 3000
    assert BoundedAdapter(1.0).seconds == 1.0


def test_a_name_from_another_answer_that_is_no_compute_name_is_malformed() -> None:
    """An annotation naming "../x" would otherwise reach the transport's URL template (ValueError)."""
    for name in ("../x", "a/b", "", "A", "x" * 64, "k8s1-abc\n"):
        with pytest.raises(Malformed, match="is not a Compute Engine resource name"):
            ComputeReader(PROJECT, "http://127.0.0.1:9", TIMEOUT).get("urlMaps", name)


# --- credentials: 401 and credentials that cannot be had are not a missing IAM grant -------------------------------

def test_no_application_default_credentials_is_credentials_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    for read in (lambda: ComputeReader(PROJECT, "https://127.0.0.1:9", TIMEOUT).get("backendServices", "k8s1-abc"),
                 lambda: ClusterReader("https://127.0.0.1:9", TIMEOUT).get(CLUSTER)):
        with pytest.raises(CredentialsRefused, match="DefaultCredentialsError") as raised:
            read()
        assert "gcloud auth application-default login" in raised.value.fix


def _workload_identity(tmp_path: Path, token_url: str) -> Path:
    """Application Default Credentials of a workload identity pool whose token exchange (STS) is `token_url`
    (https://google.aip.dev/auth/4117): google-auth asks it for a token before the first API call."""
    subject = tmp_path / "subject-token"
    subject.write_text("standin-subject-token")
    path = tmp_path / "adc.json"
    # An audience without projects/NUMBER: google.auth.default() then asks Resource Manager for no project id.
    path.write_text(json.dumps({"type": "external_account", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                                "audience": "//iam.googleapis.com/standin",
                                "token_url": token_url, "credential_source": {"file": str(subject)}}))
    return path


def test_a_refused_token_exchange_is_credentials_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    invalid_grant = google_answer("400 Bad Request", '{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}')
    with HostileServer(invalid_grant) as token:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_workload_identity(tmp_path, token.url("/v1/token"))))
        with pytest.raises(CredentialsRefused, match=r"OAuthError: .*invalid_grant: Token has been expired or revoked") as raised:
            ComputeReader(PROJECT, "https://127.0.0.1:9", TIMEOUT).get("backendServices", "k8s1-abc")
    assert "gcloud auth application-default login" in raised.value.fix


def test_a_token_endpoint_that_trickles_is_bounded_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileServer(trickle_body) as token:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_workload_identity(tmp_path, token.url("/v1/token"))))
        start = time.monotonic()
        with pytest.raises(CredentialsRefused, match=f"TransportError: .*response body: not done within the {TIMEOUT:g} s deadline"):
            ClusterReader("https://127.0.0.1:9", TIMEOUT).get(CLUSTER)
    assert time.monotonic() - start < TIMEOUT + SLACK_S


STS_TOKEN = json.dumps({"access_token": "standin", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                        "token_type": "Bearer", "expires_in": 3600})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def test_over_tls_with_application_default_credentials_a_good_answer_passes_and_a_trickled_handshake_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]) -> None:
    """The production path: a token from the credentials' token endpoint, then HTTPS through the bounded sockets."""
    import ssl
    import threading
    from http.server import ThreadingHTTPServer

    from tests.hostile_server import tls_trickle

    world = healthy_world()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("TlsHandler", (ComputeHandler,), {"world": world}))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    try:
        with HostileServer(google_answer("200 OK", STS_TOKEN)) as token, HostileServer(tls_trickle, raw=True) as trickle:
            monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_workload_identity(tmp_path, token.url("/v1/token"))))
            good = ComputeReader(PROJECT, f"https://127.0.0.1:{server.server_address[1]}", 5.0).get("backendServices", world.backend_service_name)
            assert good and good["name"] == world.backend_service_name
            start = time.monotonic()
            with pytest.raises(Unreachable, match=f"TLS handshake: not done within the {TIMEOUT:g} s deadline"):
                ComputeReader(PROJECT, f"https://127.0.0.1:{trickle.port}", TIMEOUT).get("backendServices", "k8s1-abc")
            assert time.monotonic() - start < TIMEOUT + SLACK_S
    finally:
        server.shutdown()
        server.server_close()


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
        live: Running, capsys: pytest.CaptureFixture[str], api: str, answer: str) -> None:
    path = backend_service_path(live.world) if api == "compute" else cluster_path(live.world)
    live.world.gcp_raw[path] = MALFORMED_ANSWERS[answer]
    code, err = inspect(live, capsys)
    assert code == 1, err
    what = f"Compute Engine API: backendServices/{live.world.backend_service_name}: " if api == "compute" \
        else f"Kubernetes Engine API: cluster {next(iter(live.world.clusters))}: "
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


@pytest.mark.parametrize(("api", "name"), [("compute", "trickle_body"), ("compute", "endless_body"), ("compute", "gzip_bomb"),
                                           ("container", "trickle_body"), ("container", "gzip_bomb")])
def test_inspect_ends_a_hostile_google_endpoint_within_the_timeout(
        live: Running, capsys: pytest.CaptureFixture[str], api: str, name: str) -> None:
    with HostileServer(GCP_BEHAVIOURS[name]) as server:
        start = time.monotonic()
        code, err = inspect(live, capsys, f"--{api}-endpoint", server.url(""), "--timeout", str(TIMEOUT))
        took = time.monotonic() - start
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1 and EXPECTED[name][1] in err, err
    assert took < 3 * TIMEOUT + 2 * SLACK_S  # the Kubernetes reads before it take their own (fast) time


# --- generated answers -----------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


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
@given(status=st.sampled_from(sorted(ERRORS)),
       body=st.one_of(JSON_VALUES.map(lambda v: json.dumps({"error": v}).encode()), JSON_VALUES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64)))
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
    body = _backend_service_of(inflated)
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
