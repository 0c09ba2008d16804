"""Google Cloud credentials under hostile answers (issue 19): no Application Default Credentials, a refused or
trickling token exchange are "credentials refused" with the fix, never a missing IAM grant, within the deadline;
over TLS, a good answer passes and a trickled handshake ends."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from livestate.compute import ComputeReader
from livestate.container import ClusterReader
from livestate.model import CredentialsRefused, Unreachable
from tests.gcp_hostile_helpers import CLUSTER, SLACK_S, TIMEOUT
from tests.hostile_server import HostileServer, google_answer, trickle_body
from tests.standin.servers import ComputeHandler
from tests.standin.world import PROJECT, healthy_world

# --- credentials: 401 and credentials that cannot be had are not a missing IAM grant -------------------------------


def test_no_application_default_credentials_is_credentials_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    for read in (
        lambda: ComputeReader(PROJECT, "https://127.0.0.1:9", TIMEOUT).get("backendServices", "k8s1-abc"),
        lambda: ClusterReader("https://127.0.0.1:9", TIMEOUT).get(CLUSTER),
    ):
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
    path.write_text(
        json.dumps(
            {
                "type": "external_account",
                "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                "audience": "//iam.googleapis.com/standin",
                "token_url": token_url,
                "credential_source": {"file": str(subject)},
            }
        )
    )
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


STS_TOKEN = json.dumps(
    {"access_token": "standin", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600}
)


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
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def test_over_tls_with_application_default_credentials_a_good_answer_passes_and_a_trickled_handshake_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
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
