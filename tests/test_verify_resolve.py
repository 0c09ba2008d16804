"""`ops verify URL --resolve HOST:IP` against the local lab behind TLS: the connection goes to IP while Host, SNI
and the certificate check stay HOST's (a host that resolves nowhere), a pass is recorded as the migration's proof
and a failure is not; malformed values are one line each."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.__main__ import main
from ops.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ops.migrate.proof import proof_path
from ops.migrate.settings import read_settings
from ops.verify.options import VerifyUsageError, parse_resolve
from tests.conftest import ROOT
from tests.lab import SOCKETIO_PATH, Lab, nginx_binary

HOST = "app.test"  # .test never resolves (RFC 6761): only --resolve can reach it


def _certificates(folder: Path) -> dict[str, Path]:
    """A test CA, and leaf certificates it signed for app.test and for other.test (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ops verify test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca": folder / "ca.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for serial, name in enumerate((HOST, "other.test"), 2):
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        files[f"{name}.cert"] = folder / f"{name}.cert.pem"
        files[f"{name}.key"] = folder / f"{name}.key.pem"
        files[f"{name}.cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        files[f"{name}.key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


class TlsRelay:
    """TLS terminated on a loopback port, the bytes relayed to a lab load balancer (as the Google front end does)."""

    def __init__(self, target_port: int, cert: Path, key: Path) -> None:
        self.target_port = target_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                client_writer.close()
                return
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))

        async def serve() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=self.context)
            self.port = server.sockets[0].getsockname()[1]
            self.ready.set()
            async with server:
                await server.serve_forever()

        self.task = self.loop.create_task(serve())
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self.task)

    def __enter__(self) -> TlsRelay:
        self.thread.start()
        assert self.ready.wait(5), "the TLS relay did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if nginx_binary() is None:
        message = "nginx is not installed: apt-get install nginx (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    lab = Lab(tmp_path_factory.mktemp("lab"), backends=2).start()
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def project(tmp_path: Path, certificates: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stack files with prod serving app.test; the test CA trusted (OpenSSL reads SSL_CERT_FILE at each context)."""
    root = tmp_path / "project"
    root.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    prod = root / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("  coditect:hosts:\n    - coditect.ai\n", f"  coditect:hosts:\n    - {HOST}\n"))
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates["ca"]))
    commit_all(root)  # a pass is recorded only for a committed stack file
    return root


def commit_all(root: Path) -> None:
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-q", "-m", "stacks"]):
        subprocess.run(["git", "-C", str(root), *command], check=True, capture_output=True)


def verify(project: Path, port: int, *flags: str) -> int:
    return main(["--project", str(project), "verify", f"https://{HOST}:{port}{SOCKETIO_PATH}", "--polls", "2", "--timeout", "5", *flags])


@pytest.mark.lab
def test_a_pass_through_resolve_is_recorded_as_the_migrations_proof(
    lab: Lab, certificates: dict[str, Path], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with TlsRelay(lab.ports["fixed"], certificates[f"{HOST}.cert"], certificates[f"{HOST}.key"]) as relay:
        assert verify(project, relay.port) == EXIT_FAILED  # app.test resolves nowhere: without --resolve nothing connects
        assert not proof_path(project, "prod").exists()
        capsys.readouterr()
        assert verify(project, relay.port, "--resolve", f"{HOST}:127.0.0.1") == EXIT_OK
    out = capsys.readouterr().out
    assert "recorded the pass through 127.0.0.1 for prod" in out
    recorded = json.loads(proof_path(project, "prod").read_text())
    assert recorded["stack"] == "prod" and recorded["version"] == 1
    assert {k: recorded["proof"][k] for k in ("stack", "host", "ip", "verdict")} == {"stack": "prod", "host": HOST, "ip": "127.0.0.1", "verdict": "pass"}
    assert recorded["proof"]["settings"] == read_settings("prod", project).digest
    assert recorded["proof"]["url"] == f"https://{HOST}:{relay.port}{SOCKETIO_PATH}"


@pytest.mark.lab
def test_a_pass_while_the_stack_file_has_uncommitted_changes_records_nothing(
    lab: Lab, certificates: dict[str, Path], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The digest would be of an edit not deployed: the pass is said and not recorded."""
    prod = project / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("    version: 1.4.2\n", "    version: 1.4.3\n"))
    with TlsRelay(lab.ports["fixed"], certificates[f"{HOST}.cert"], certificates[f"{HOST}.key"]) as relay:
        assert verify(project, relay.port, "--resolve", f"{HOST}:127.0.0.1") == EXIT_OK
    out = capsys.readouterr().out
    assert "Pulumi.prod.yaml has uncommitted changes" in out and "no proof recorded for prod" in out
    assert not proof_path(project, "prod").exists()


@pytest.mark.lab
def test_a_failed_verify_through_resolve_records_nothing(lab: Lab, certificates: dict[str, Path], project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The outage's load balancer (no affinity, no Upgrade): the handshake works, the session does not.
    with TlsRelay(lab.ports["incident"], certificates[f"{HOST}.cert"], certificates[f"{HOST}.key"]) as relay:
        assert verify(project, relay.port, "--resolve", f"{HOST}:127.0.0.1") == EXIT_FAILED
    assert "verify through 127.0.0.1 failed: no proof recorded for prod" in capsys.readouterr().out
    assert not proof_path(project, "prod").exists()


@pytest.mark.lab
def test_the_certificate_is_checked_for_host_not_for_the_address(
    lab: Lab, certificates: dict[str, Path], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with TlsRelay(lab.ports["fixed"], certificates["other.test.cert"], certificates["other.test.key"]) as relay:
        assert verify(project, relay.port, "--resolve", f"{HOST}:127.0.0.1") == EXIT_FAILED
    out = capsys.readouterr().out
    assert "certificate is not valid for 'app.test'" in out and "no proof recorded" in out
    assert not proof_path(project, "prod").exists()


@pytest.mark.lab
def test_an_insecure_pass_through_resolve_records_nothing(lab: Lab, certificates: dict[str, Path], project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A certificate for another name: only --insecure lets this pass, and such a pass proves nothing of the Gateway's certificate.
    with TlsRelay(lab.ports["fixed"], certificates["other.test.cert"], certificates["other.test.key"]) as relay:
        assert verify(project, relay.port, "--resolve", f"{HOST}:127.0.0.1", "--insecure") == EXIT_OK
    assert "--insecure: the certificate through 127.0.0.1 was not checked: no proof recorded" in capsys.readouterr().out
    assert not proof_path(project, "prod").exists()


@pytest.mark.parametrize(
    "value, message",
    [
        (HOST, "--resolve must be HOST:IP"),
        (f"{HOST}:", "--resolve must be HOST:IP"),
        (":127.0.0.1", "--resolve must be HOST:IP"),
        (f"{HOST}:999.1.1.1", "'999.1.1.1' is not an IPv4 or IPv6 address literal"),
        (f"{HOST}:443:127.0.0.1", "'443:127.0.0.1' is not an IPv4 or IPv6 address literal"),  # curl's HOST:PORT:ADDR
        (f"{HOST}:localhost", "'localhost' is not an IPv4 or IPv6 address literal"),
        ("other.test:127.0.0.1", "--resolve HOST 'other.test' must be the URL's host 'app.test'"),
        ("127.0.0.1:127.0.0.1", "HOST is an IP address"),
        ("bad_host!:127.0.0.1", "is not a DNS name"),
    ],
)
def test_a_malformed_resolve_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str) -> None:
    assert main(["--project", str(tmp_path), "verify", f"https://{HOST}{SOCKETIO_PATH}", "--resolve", value]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "--resolve" in err, err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--resolve", f"{HOST}:127.0.0.1", "--browser"], "--resolve cannot be combined with --browser"),
        (["--stack", "prod"], "--stack names the stack a --resolve pass is recorded for"),
        (["--resolve", f"{HOST}:127.0.0.1", "--stack", "prod", "--insecure"], "--insecure skips the certificate check, so its pass is no proof"),
    ],
)
def test_resolve_with_browser_or_stack_without_resolve_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str) -> None:
    assert main(["--project", str(tmp_path), "verify", f"https://{HOST}{SOCKETIO_PATH}", *flags]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_valid_resolve_values_are_read_canonically() -> None:
    assert parse_resolve("App.Test:127.0.0.1") == ("app.test", "127.0.0.1")
    assert parse_resolve("app.test:[2001:db8::0:1]") == ("app.test", "2001:db8::1")
    assert parse_resolve("app.test:::1") == ("app.test", "::1")
    with pytest.raises(VerifyUsageError):
        parse_resolve("app.test:[::1")


def test_the_stack_for_a_pass_is_the_one_listing_host(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ops.errors import UsageError
    from ops.migrate.proof import stack_for_host

    assert stack_for_host(project, HOST, None) == "prod" and stack_for_host(project, "nowhere.test", None) is None
    with pytest.raises(UsageError, match=r"does not list 'app\.test'"):
        stack_for_host(project, HOST, "staging")
    staging = project / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("  coditect:hosts:\n", f"  coditect:hosts:\n    - {HOST}\n", 1))
    with pytest.raises(UsageError, match="is in coditect:hosts of prod, staging"):
        stack_for_host(project, HOST, None)
