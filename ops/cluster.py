"""`python -m ops cluster start|stop|status`: a real Kubernetes API server on loopback for the `local` stack.

etcd, kube-apiserver and kube-controller-manager (built by `make engine` into .engine/bin) run as child
processes with certificates made here, listening on 127.0.0.1 only. The controller manager is there for
what a `pulumi up`/`destroy` needs of a cluster: service-account tokens, garbage collection, namespace
deletion. There is no scheduler, node or load-balancer controller: pods stay Pending and no Ingress gets
an address, which is why the `local` stack skips those awaits. `start` installs the CRDs the program uses
and writes .engine/kubeconfig, whose context is the one Pulumi.local.yaml pins.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ops.errors import EXIT_FAILED, EXIT_OK, UsageError

CONTEXT = "coditect-local"  # Pulumi.local.yaml: coditect:cluster.context
PARTS = ("etcd", "kube-apiserver", "kube-controller-manager")
READY_TIMEOUT_SEC = 90.0
SERVICE_RANGE = "10.96.0.0/24"


@dataclass(frozen=True)
class Layout:
    """Where everything of one local cluster lives: under .engine/ of the work tree (ignored by git)."""

    root: Path

    @property
    def engine(self) -> Path:
        return self.root / ".engine"

    @property
    def bin(self) -> Path:
        return self.engine / "bin"

    @property
    def home(self) -> Path:
        return self.engine / "cluster"

    @property
    def pki(self) -> Path:
        return self.home / "pki"

    @property
    def kubeconfig(self) -> Path:
        return self.engine / "kubeconfig"

    @property
    def state(self) -> Path:
        return self.home / "state.json"

    def log(self, part: str) -> Path:
        return self.home / f"{part}.log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificates(pki: Path) -> None:
    """A CA, the API server's serving certificate (127.0.0.1, localhost, the in-cluster names), a client
    certificate for the admin (group system:masters) and the service-account signing key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    pki.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    life = datetime.timedelta(days=30)

    def write_key(name: str, key: ec.EllipticCurvePrivateKey) -> None:
        path = pki / f"{name}.key"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        path.chmod(0o600)

    def name(cn: str, org: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("coditect-local-ca"))
        .issuer_name(name("coditect-local-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + life)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    write_key("ca", ca_key)
    (pki / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def leaf(file: str, subject: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName] | None = None) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + life)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        write_key(file, key)
        (pki / f"{file}.crt").write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))

    loopback: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address(SERVICE_RANGE.split("/")[0][:-1] + "1")),
    ]
    dns: list[x509.GeneralName] = [x509.DNSName(n) for n in ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")]
    leaf("apiserver", name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, loopback + dns)
    leaf("admin", name("coditect-local-admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH)
    signer = ec.generate_private_key(ec.SECP256R1())
    write_key("service-account", signer)
    (pki / "service-account.pub").write_bytes(signer.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _kubeconfig(layout: Layout, port: int) -> dict[str, object]:
    pki = layout.pki
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": CONTEXT,
        "preferences": {},
        "clusters": [{"name": CONTEXT, "cluster": {"server": f"https://127.0.0.1:{port}", "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": CONTEXT, "user": {"client-certificate": str(pki / "admin.crt"), "client-key": str(pki / "admin.key")}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
    }


def _commands(layout: Layout, etcd_port: int, peer_port: int, api_port: int) -> dict[str, list[str]]:
    pki, home, b = layout.pki, layout.home, layout.bin
    etcd_url = f"http://127.0.0.1:{etcd_port}"
    return {
        "etcd": [
            str(b / "etcd"),
            "--data-dir",
            str(home / "etcd"),
            "--name",
            "local",
            "--listen-client-urls",
            etcd_url,
            "--advertise-client-urls",
            etcd_url,
            "--listen-peer-urls",
            f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls",
            f"http://127.0.0.1:{peer_port}",
            "--initial-cluster",
            f"local=http://127.0.0.1:{peer_port}",
            "--listen-metrics-urls",
            "",
            "--log-level",
            "warn",
        ],
        "kube-apiserver": [
            str(b / "kube-apiserver"),
            "--etcd-servers",
            etcd_url,
            "--bind-address",
            "127.0.0.1",
            "--advertise-address",
            "127.0.0.1",
            "--secure-port",
            str(api_port),
            "--tls-cert-file",
            str(pki / "apiserver.crt"),
            "--tls-private-key-file",
            str(pki / "apiserver.key"),
            "--client-ca-file",
            str(pki / "ca.crt"),
            "--service-account-key-file",
            str(pki / "service-account.pub"),
            "--service-account-signing-key-file",
            str(pki / "service-account.key"),
            "--service-account-issuer",
            "https://kubernetes.default.svc",
            "--authorization-mode",
            "Node,RBAC",
            "--service-cluster-ip-range",
            SERVICE_RANGE,
            "--allow-privileged=false",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        ],
        "kube-controller-manager": [
            str(b / "kube-controller-manager"),
            "--kubeconfig",
            str(layout.kubeconfig),
            "--bind-address",
            "127.0.0.1",
            "--secure-port",
            "0",
            "--leader-elect=false",
            "--use-service-account-credentials=false",
            "--service-account-private-key-file",
            str(pki / "service-account.key"),
            "--root-ca-file",
            str(pki / "ca.crt"),
            "--controllers",
            "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route",
            "--v=1",
        ],
    }


def _state(layout: Layout) -> dict[str, object] | None:
    try:
        state = json.loads(layout.state.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _ready(port: int, timeout: float = 2.0) -> bool:
    """True when /readyz of the API server on `port` answers ok (TLS checked against the local CA)."""
    context = ssl.create_default_context(cafile=None)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # readiness only: /readyz is served to anonymous clients
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", timeout=timeout, context=context) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start(layout: Layout, out: object = sys.stdout) -> int:
    missing = [p for p in PARTS if not (layout.bin / p).exists()]
    if missing:
        raise UsageError(f"{', '.join(missing)} not built in {layout.bin}: run `make engine` first")
    state = _state(layout)
    if state and all(_alive(pid) for pid in dict(state.get("pids", {})).values()):  # type: ignore[call-overload]
        install_crds(layout)
        print(f"cluster: already running on https://127.0.0.1:{state['port']} (context {CONTEXT})", file=out)  # type: ignore[call-overload]
        return EXIT_OK
    stop(layout, quiet=True)
    import shutil

    shutil.rmtree(layout.home, ignore_errors=True)
    layout.home.mkdir(parents=True)
    _certificates(layout.pki)
    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    layout.kubeconfig.write_text(json.dumps(_kubeconfig(layout, api_port), indent=2))
    layout.kubeconfig.chmod(0o600)
    commands = _commands(layout, etcd_port, peer_port, api_port)
    pids: dict[str, int] = {}
    t0 = time.monotonic()
    for part in PARTS:
        log = layout.log(part).open("ab")
        process = subprocess.Popen(commands[part], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        pids[part] = process.pid
        layout.state.write_text(json.dumps({"port": api_port, "etcd": etcd_port, "pids": pids}))
        if part == "kube-apiserver":
            deadline = time.monotonic() + READY_TIMEOUT_SEC
            while not _ready(api_port):
                if process.poll() is not None or time.monotonic() > deadline:
                    stop(layout, quiet=True)
                    tail = layout.log(part).read_text(errors="replace").splitlines()[-15:]
                    print(f"cluster: kube-apiserver did not become ready; last lines of {layout.log(part)}:", file=sys.stderr)
                    print("\n".join(tail), file=sys.stderr)
                    return EXIT_FAILED
                time.sleep(0.5)
    install_crds(layout)
    print(f"cluster: ready in {time.monotonic() - t0:.1f} s on https://127.0.0.1:{api_port}; KUBECONFIG={layout.kubeconfig} (context {CONTEXT})", file=out)  # type: ignore[call-overload]
    return EXIT_OK


def crd_files(root: Path) -> list[Path]:
    """The GKE CRDs the program's objects need: BackendConfig, FrontendConfig, ManagedCertificate."""
    names = ("backendconfig.cloud.google.com.yaml", "frontendconfig.networking.gke.io.yaml", "managedcertificate.networking.gke.io.yaml")
    return [root / "schemas" / "crds" / n for n in names]


def install_crds(layout: Layout) -> None:
    import kubernetes
    import yaml

    client = kubernetes.config.new_client_from_config(str(layout.kubeconfig), context=CONTEXT)
    api = kubernetes.client.ApiextensionsV1Api(client)
    for path in crd_files(layout.root):
        body = yaml.safe_load(path.read_text())
        # Some files are exports of a live cluster: the server refuses the fields it sets itself.
        body.pop("status", None)
        for field in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink"):
            body["metadata"].pop(field, None)
        try:
            api.create_custom_resource_definition(body)
        except kubernetes.client.ApiException as error:
            if error.status != 409:
                raise UsageError(f"the API server refused the CRD in {path.name}: {error.status} {error.reason}") from None
    # Established before anything uses them.
    for path in crd_files(layout.root):
        crd = yaml.safe_load(path.read_text())["metadata"]["name"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = api.read_custom_resource_definition(crd).status
            conditions = (status.conditions if status else None) or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            time.sleep(0.3)
    client.close()


def stop(layout: Layout, quiet: bool = False, out: object = sys.stdout) -> int:
    state = _state(layout) or {}
    pids = dict(state.get("pids", {}))  # type: ignore[call-overload]
    for part in reversed(PARTS):
        pid = pids.get(part)
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids.values():
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    layout.state.unlink(missing_ok=True)
    if not quiet:
        print("cluster: stopped" if pids else "cluster: not running", file=out)  # type: ignore[call-overload]
    return EXIT_OK


def status(layout: Layout, out: object = sys.stdout) -> int:
    state = _state(layout)
    if not state:
        print("cluster: not running", file=out)  # type: ignore[call-overload]
        return EXIT_FAILED
    pids = dict(state.get("pids", {}))  # type: ignore[call-overload]
    parts = ", ".join(f"{p} {'up' if _alive(pids.get(p)) else 'DOWN'}" for p in PARTS)
    ready = _ready(int(state["port"]))  # type: ignore[call-overload]
    print(f"cluster: {'ready' if ready else 'NOT READY'} on https://127.0.0.1:{state['port']} ({parts})", file=out)  # type: ignore[call-overload]
    return EXIT_OK if ready else EXIT_FAILED
