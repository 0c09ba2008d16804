"""`ops migrate`: the plan of every stage from observed states, every refusal of --next, the whole way to the
Gateway and back on a copy of a stack file, the rollback printed for each step, the proof file's bounds, and
the live readers (DNS under a deadline, Certificate Manager through a loopback stand-in)."""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livestate.gateway_status import GatewayStatus
from livestate.model import AccessDenied
from ops.__main__ import main
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK, EXIT_USAGE, EXIT_WRITE, Refused, UsageError, refusal_text
from ops.migrate import proof
from ops.migrate.observe import CertificateReader, CertificateState, DnsRecord, ObservationError, resolve
from ops.migrate.plan import evaluate, next_doors
from ops.migrate.proof import Memory
from ops.migrate.run import migrate, parse_now, parse_ttl
from ops.migrate.seen import Seen
from ops.migrate.settings import BOTH, GATEWAY_ONLY, INGRESS_ONLY, MigrationSettings, read_settings
from tests.conftest import ROOT

INGRESS_IP, GATEWAY_IP = "203.0.113.10", "203.0.113.20"
HOST = "coditect.ai"
T0 = 1_800_000_000.0
TIMEOUT_SEC = 86_400  # prod's backendConfig.timeoutSec
TTL = 300
WAIT = TIMEOUT_SEC + TTL
PROVEN = GatewayStatus("coditect-gateway", True, True, (GATEWAY_IP,), True, True, ())
ACTIVE = CertificateState("coditect-prod-gw-cert", "ACTIVE", ((HOST, "AUTHORIZED"),))
RECORD = DnsRecord(HOST, f"_acme-challenge.{HOST}.", "CNAME", "0f1e.2.authorize.certificatemanager.goog.")
PROVISIONING = CertificateState("coditect-prod-gw-cert", "PROVISIONING", ((HOST, "AUTHORIZING"),), records=(RECORD,))


@dataclass
class FakeObserver:
    ingress: str | None = INGRESS_IP
    gateway: Any = None
    certificate: CertificateState | None = None
    dns: dict[str, tuple[str, ...]] = field(default_factory=lambda: {HOST: (INGRESS_IP,)})
    fail: dict[str, Exception] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def _read(self, what: str, value: Any) -> Any:
        self.calls.append(what)
        if what in self.fail:
            raise self.fail[what]
        return value

    def gateway_status(self) -> Any:
        return self._read("gateway", self.gateway)

    def certificate_state(self) -> CertificateState | None:
        return self._read("certificate", self.certificate)

    def resolve(self, host: str) -> tuple[str, ...]:
        return self._read("dns", self.dns.get(host, ()))

    def ingress_address(self) -> str | None:
        return self._read("ingress", self.ingress)


BUNDLE = "  coditect:gateway:\n    bundleVersion: v1.5.1\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project's stack files in a temporary directory, prod with a Gateway bundle declared."""
    root = tmp_path / "project"
    root.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    with (root / "Pulumi.prod.yaml").open("a") as stack_file:
        stack_file.write(BUNDLE)
    return root


def set_doors(root: Path, doors: tuple[str, ...]) -> None:
    with (root / "Pulumi.prod.yaml").open("a") as stack_file:
        stack_file.write(f"  coditect:frontDoors: [{', '.join(doors)}]\n")


def doors_of(root: Path) -> list[str]:
    return yaml.safe_load((root / "Pulumi.prod.yaml").read_text())["config"].get("coditect:frontDoors", ["ingress"])


def run(root: Path, observer: FakeObserver, to: str = "gateway", now: float = T0, what_if: float | None = None, **flags: Any) -> tuple[int, str]:
    """One `ops migrate prod` with the clock at `now` (`what_if`: --now): (exit code, stdout), or for a refusal its exit
    code and the text the error boundary writes on stderr; a refusal leaves stdout empty."""
    out = io.StringIO()
    try:
        code = migrate("prod", to, out, lambda _settings: observer, root=root, now=what_if, clock=lambda: now, dns_ttl=TTL, **flags)
    except Refused as refusal:
        assert out.getvalue() == "", "a refusal goes to stderr through the error boundary, never to stdout"
        return refusal.exit_code, refusal_text(refusal)
    return code, out.getvalue()


def fresh_proof(root: Path, ip: str = GATEWAY_IP, at: float = T0 - 60) -> None:
    digest = read_settings("prod", root).digest
    proof.record_proof(root, proof.Proof("prod", HOST, ip, f"https://{HOST}/theia/socket.io/", at, "pass", digest))


def current(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("  >>>>")).split(":")[0].strip()


# --- the plan of each stage


def test_stage_0_ingress_only_says_the_next_command_writes_both_front_doors(project: Path) -> None:
    code, text = run(project, FakeObserver())
    assert code == EXIT_OK
    assert "  done 0 ingress-only" in text and current(text) == ">>>> 1 certificate"
    assert "the Ingress serves at 203.0.113.10" in text
    assert "`python -m ops migrate prod --to gateway --next` (writes frontDoors [ingress, gateway])" in text


def test_stage_0_without_a_bundle_says_to_set_it_first(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    code, text = run(root, FakeObserver())
    assert code == EXIT_OK and "set coditect:gateway.bundleVersion in Pulumi.prod.yaml" in text
    code, text = run(root, FakeObserver(), apply_next=True)
    assert code == EXIT_FAILED and "refused: frontDoors [ingress] -> [ingress, gateway] needs coditect:gateway.bundleVersion" in text
    assert "coditect:frontDoors" not in (root / "Pulumi.prod.yaml").read_text()


def test_stage_1_a_provisioning_certificate_names_the_records_to_create(project: Path) -> None:
    set_doors(project, BOTH)
    code, text = run(project, FakeObserver(gateway=PROVEN, certificate=PROVISIONING))
    assert code == EXIT_OK and current(text) == ">>>> 1 certificate"
    assert "managed.state PROVISIONING" in text and "not AUTHORIZED yet" in text
    assert f"create at your DNS provider: _acme-challenge.{HOST}. CNAME 0f1e.2.authorize.certificatemanager.goog." in text


def test_stage_1_a_missing_certificate_says_pulumi_up_creates_it(project: Path) -> None:
    set_doors(project, BOTH)  # not deployed yet: no Gateway, no certificate
    code, text = run(project, FakeObserver(gateway=None, certificate=None))
    assert code == EXIT_OK and current(text) == ">>>> 1 certificate" and "does not exist (yet): `pulumi up -s prod` creates it" in text
    assert "a hosts change" not in text


WWW = "www.coditect.ai"


def add_host(root: Path) -> None:
    stack_file = root / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace(f"  coditect:hosts:\n    - {HOST}\n", f"  coditect:hosts:\n    - {HOST}\n    - {WWW}\n"))


def test_a_hosts_change_sends_a_deployed_gateway_back_to_the_certificate_step_in_order(project: Path) -> None:
    """The Gateway is deployed (proven, proof and all) and a host is added: the certificate of the new host set does not
    exist, so the plan is back at step 1 and says the order, not `pulumi up creates it` (one up would switch at once)."""
    set_doors(project, BOTH)
    fresh_proof(project)
    add_host(project)
    observer = FakeObserver(gateway=PROVEN, certificate=None, dns={HOST: (INGRESS_IP,), WWW: (INGRESS_IP,)})
    code, text = run(project, observer)
    assert code == EXIT_OK and current(text) == ">>>> 1 certificate", text
    assert f"the Gateway is deployed but no certificate for the stack's hosts ({HOST}, {WWW}) exists: its certificate is of other hosts" in text
    assert "without waiting for ACTIVE" in text and "the new hosts' DNS authorizations and certificate first, ACTIVE (this step), then the switch" in text
    assert "creates it" not in text and "first point" not in text  # DNS is at the Ingress: nothing to move
    assert "then `pulumi up -s prod` with the new hosts" in text and "shows step 1 done (the certificate ACTIVE" in text


def test_a_hosts_change_while_dns_is_at_the_gateway_says_to_move_it_back_first(project: Path) -> None:
    set_doors(project, BOTH)
    other = CertificateState("coditect-prod-gw-cert", "ACTIVE", ((HOST, "AUTHORIZED"),))  # the deployed certificate: the old hosts
    add_host(project)
    observer = FakeObserver(gateway=PROVEN, certificate=other, dns={HOST: (GATEWAY_IP,), WWW: (GATEWAY_IP,)})
    _code, text = run(project, observer)
    assert current(text) == ">>>> 1 certificate"
    assert f"the certificate's domains ({HOST}) are not the stack's hosts ({HOST}, {WWW})" in text
    assert f"first point {HOST}, {WWW} back at the Ingress ({INGRESS_IP})" in text
    text = refused(project, observer)  # and the Ingress cannot go
    assert "step 1 certificate: not reached" in text


def test_a_certificate_provisioning_under_a_serving_gateway_says_the_order(project: Path) -> None:
    set_doors(project, GATEWAY_ONLY)  # the hosts change was deployed: the map entries already name the provisioning certificate
    _code, text = run(project, FakeObserver(ingress=None, gateway=PROVEN, certificate=PROVISIONING, dns={HOST: (GATEWAY_IP,)}))
    assert current(text) == ">>>> 1 certificate" and "without waiting for ACTIVE" in text
    assert "first bring the Ingress back and DNS to it: `python -m ops migrate prod --to ingress`" in text


def test_an_active_certificate_of_the_stacks_hosts_passes_step_1_with_no_hosts_change_said(project: Path) -> None:
    set_doors(project, BOTH)
    code, text = run(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE))
    assert code == EXIT_OK and "done 1 certificate" in text and "a hosts change" not in text


def test_stage_2_a_gateway_not_programmed_is_named_with_its_problems(project: Path) -> None:
    set_doors(project, BOTH)
    pending = GatewayStatus("coditect-gateway", True, False, (), True, True, ("Programmed=False: GWCER106 address does not exist",))
    code, text = run(project, FakeObserver(gateway=pending, certificate=ACTIVE))
    assert code == EXIT_OK and current(text) == ">>>> 2 side-by-side"
    assert "programmed NO" in text and "problem: Programmed=False: GWCER106 address does not exist" in text


def test_stage_2_a_gateway_on_the_ingress_address_is_not_side_by_side(project: Path) -> None:
    set_doors(project, BOTH)
    shared = GatewayStatus("coditect-gateway", True, True, (INGRESS_IP,), True, True, ())
    _, text = run(project, FakeObserver(gateway=shared, certificate=ACTIVE))
    assert current(text) == ">>>> 2 side-by-side" and "need two addresses" in text


def test_stage_3_a_proven_gateway_says_the_exact_verify_command(project: Path) -> None:
    set_doors(project, BOTH)
    code, text = run(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE))
    assert code == EXIT_OK and current(text) == ">>>> 3 verified"
    assert f"`python -m ops verify https://{HOST}/theia/socket.io/ --resolve {HOST}:{GATEWAY_IP}`" in text


def test_stage_4_dns_not_moved_says_where_to_point_it(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    _, text = run(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE))
    assert current(text) == ">>>> 4 dns-cutover" and f"point {HOST} at {GATEWAY_IP}" in text and "lower the TTL" in text


def test_stage_4_after_the_cutover_waits_timeout_plus_ttl_and_says_until_when(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    moved = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)})
    run(project, moved, now=T0)  # the first sighting is noted
    _, text = run(project, moved, now=T0 + 3600)
    assert current(text) == ">>>> 4 dns-cutover"
    assert "first seen at the Gateway 2027-01-15 08:00:00 UTC; the Ingress stays until 2027-01-16 08:05:00 UTC" in text
    assert f"wait: {WAIT - 3600} s left" in text


def test_stage_5_once_the_wait_is_over_says_next_writes_gateway_only(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    moved = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)})
    run(project, moved, now=T0)
    _, text = run(project, moved, now=T0 + WAIT)
    assert current(text) == ">>>> 5 ingress-removed" and "(writes frontDoors [gateway])" in text


def test_complete_with_gateway_only(project: Path) -> None:
    set_doors(project, GATEWAY_ONLY)
    fresh_proof(project)
    observer = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)})
    code, text = run(project, observer)
    assert code == EXIT_OK and ">>>>" not in text and "the migration to the gateway front door is complete" in text
    assert "ingress" not in observer.calls  # no Ingress to read once it is gone


def test_a_read_that_fails_is_named_and_the_step_cannot_be_judged(project: Path) -> None:
    set_doors(project, BOTH)
    observer = FakeObserver(certificate=ACTIVE, fail={"gateway": ObservationError("Gateway coditect-app/coditect-gateway: no answer within 5 s")})
    code, text = run(project, observer)
    assert code == EXIT_FAILED and current(text) == ">>>> 2 side-by-side"
    assert "cannot tell: Gateway coditect-app/coditect-gateway: no answer within 5 s" in text and "cannot be judged" in text


def test_every_step_prints_its_rollback(project: Path) -> None:
    _, text = run(project, FakeObserver())
    rollbacks = [line.strip() for line in text.splitlines() if line.strip().startswith("rollback:")]
    assert len(rollbacks) == 6
    assert rollbacks[0] == "rollback: nothing to roll back"
    for line in rollbacks[1:4]:
        assert "`python -m ops migrate prod --to ingress --next` (frontDoors back to [ingress])" in line and "DNS never moved" in line
    assert f"point DNS back at the Ingress address {INGRESS_IP} while both front doors exist" in rollbacks[4]
    assert "ManagedCertificate renews only while DNS points at the Ingress" in rollbacks[4]
    assert "(frontDoors back to [ingress, gateway])" in rollbacks[5] and "provisions only once DNS points at the Ingress" in rollbacks[5]


def test_the_way_back_prints_its_own_steps_and_rollbacks(project: Path) -> None:
    set_doors(project, GATEWAY_ONLY)
    _, text = run(project, FakeObserver(gateway=PROVEN, dns={HOST: (GATEWAY_IP,)}), to="ingress")
    assert current(text) == ">>>> 1 ingress-restored" and "(writes frontDoors [ingress, gateway])" in text
    assert "rollback: `python -m ops migrate prod --to gateway --next` (frontDoors back to [gateway])" in text
    assert f"rollback: point DNS back at the Gateway ({GATEWAY_IP})" in text


# --- refusals of --next to [gateway]


def refused(project: Path, observer: FakeObserver, now: float = T0) -> str:
    before = (project / "Pulumi.prod.yaml").read_bytes()
    code, text = run(project, observer, now=now, apply_next=True)
    assert code == EXIT_FAILED and text.startswith("refused: frontDoors [ingress, gateway] -> [gateway] removes a front door"), text
    assert (project / "Pulumi.prod.yaml").read_bytes() == before
    return text


def test_next_to_gateway_only_is_refused_without_a_proof(project: Path) -> None:
    set_doors(project, BOTH)
    text = refused(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)}))
    assert "step 3 verified: not reached; no passing verify through the Gateway is recorded" in text


def test_next_to_gateway_only_is_refused_with_a_proof_through_another_address(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project, ip="198.51.100.7")
    text = refused(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)}))
    assert f"stale: it went through 198.51.100.7, the Gateway's address is {GATEWAY_IP}" in text


def test_next_to_gateway_only_is_refused_when_the_gateway_changed_after_the_proof(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace("bundleVersion: v1.5.1", "bundleVersion: v1.3.0"))
    text = refused(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)}))
    assert "stale: the stack's settings (every key but frontDoors and inspection) changed since it passed" in text


def test_next_to_gateway_only_is_refused_while_dns_points_at_the_ingress(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    text = refused(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE))
    assert "step 4 dns-cutover: not reached" in text and f"{HOST} resolves to {INGRESS_IP}" in text


def test_next_to_gateway_only_is_refused_when_one_address_of_a_host_is_still_the_ingress(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    text = refused(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP, INGRESS_IP)}))
    assert "DNS does not point at the Gateway" in text


def test_next_to_gateway_only_is_refused_before_the_wait_and_allowed_after(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    moved = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)})
    text = refused(project, moved, now=T0)
    assert f"wait: {WAIT} s left" in text
    refused(project, moved, now=T0 + WAIT - 1)  # one second short
    code, _ = run(project, moved, now=T0 + WAIT, apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["gateway"]


def test_next_to_gateway_only_is_refused_when_a_read_fails(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    observer = FakeObserver(gateway=PROVEN, certificate=ACTIVE, fail={"dns": ObservationError("DNS: coditect.ai was not resolved within 5 s")})
    text = refused(project, observer)
    assert "step 4 dns-cutover: cannot tell; cannot tell: DNS: coditect.ai was not resolved within 5 s" in text


def test_next_refused_because_a_read_was_denied_exits_no_access(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    denied = AccessDenied("DNS", "dns.resolve", "403")
    before = (project / "Pulumi.prod.yaml").read_bytes()
    code, text = run(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE, fail={"dns": denied}), apply_next=True)
    assert code == EXIT_NO_ACCESS and text.startswith("refused: frontDoors [ingress, gateway] -> [gateway] removes a front door"), text
    assert (project / "Pulumi.prod.yaml").read_bytes() == before


def test_a_refused_next_is_on_stderr_and_a_plan_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the error boundary: `migrate --next` refused (no bundleVersion) writes one refusal on stderr, nothing on
    stdout; with the bundle declared, the --dry-run change is stdout only. Neither reads the cluster (adding a front door)."""
    root = tmp_path / "p"
    root.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    code = main(["--project", str(root), "migrate", "prod", "--to", "gateway", "--next"])
    out, err = capsys.readouterr()
    assert code == EXIT_FAILED and out == "", out
    assert err.startswith("refused: frontDoors [ingress] -> [ingress, gateway] needs coditect:gateway.bundleVersion") and err.count("refused: ") == 1
    with (root / "Pulumi.prod.yaml").open("a") as stack_file:
        stack_file.write(BUNDLE)
    code = main(["--project", str(root), "migrate", "prod", "--to", "gateway", "--next", "--dry-run"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK and err == "" and out.startswith("Pulumi.prod.yaml: frontDoors [ingress] -> [ingress, gateway]\n")
    assert out.endswith("--dry-run: nothing written.\n") and "refused" not in out


def test_adding_a_front_door_needs_no_live_read(project: Path) -> None:
    observer = FakeObserver(fail={key: ObservationError("must not be read") for key in ("ingress", "gateway", "certificate", "dns")})
    code, _ = run(project, observer, apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["ingress", "gateway"] and observer.calls == []


# --- the whole way, on a copy of the stack file


def test_the_whole_way_to_the_gateway_and_back(project: Path) -> None:
    original = (project / "Pulumi.prod.yaml").read_text()
    observer = FakeObserver()
    # 0 -> writes [ingress, gateway]; only that key changes, every comment stays
    code, text = run(project, observer, apply_next=True, dry_run=True)
    assert code == EXIT_OK and "--dry-run: nothing written." in text and (project / "Pulumi.prod.yaml").read_text() == original
    code, text = run(project, observer, apply_next=True)
    assert code == EXIT_OK and "frontDoors [ingress] -> [ingress, gateway]" in text and "+  coditect:frontDoors: [ingress, gateway]" in text
    after = (project / "Pulumi.prod.yaml").read_text()
    assert [line for line in after.splitlines() if line not in original.splitlines()] == ["  coditect:frontDoors: [ingress, gateway]"]
    assert all(line in after.splitlines() for line in original.splitlines() if line.lstrip().startswith("#"))
    # 1, 2: pulumi up happened; the certificate provisions, then the Gateway is proven
    observer.certificate, observer.gateway = PROVISIONING, PROVEN
    assert current(run(project, observer)[1]) == ">>>> 1 certificate"
    observer.certificate = ACTIVE
    assert current(run(project, observer)[1]) == ">>>> 3 verified"
    # 3: verify through the new address records a pass
    fresh_proof(project, at=T0)
    assert current(run(project, observer, now=T0 + 10)[1]) == ">>>> 4 dns-cutover"
    # 4: DNS moves; the Ingress stays for timeoutSec + TTL
    observer.dns = {HOST: (GATEWAY_IP,)}
    assert run(project, observer, now=T0 + 100, apply_next=True)[0] == EXIT_FAILED
    code, text = run(project, observer, now=T0 + 100 + WAIT, apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["gateway"]
    assert "`python -m ops render prod` refreshes rendered/prod/" in text and "Nothing was deployed" in text
    # 5: complete; --next has nothing left to do
    observer.ingress = None
    code, text = run(project, observer, now=T0 + 200 + WAIT)
    assert code == EXIT_OK and "complete" in text
    assert run(project, observer, now=T0 + 200 + WAIT, apply_next=True)[1].endswith("nothing to do.\n")
    # and back: the Ingress returns first; the Gateway stays until DNS is back and its sockets ended
    code, _ = run(project, observer, to="ingress", now=T0 + 2 * WAIT, apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["ingress", "gateway"]
    observer.ingress = INGRESS_IP
    code, text = run(project, observer, to="ingress", now=T0 + 2 * WAIT, apply_next=True)
    assert code == EXIT_FAILED and "step 2 dns-back: not reached" in text
    observer.dns = {HOST: (INGRESS_IP,)}
    back = T0 + 3 * WAIT
    code, text = run(project, observer, to="ingress", now=back, apply_next=True)
    assert code == EXIT_FAILED and "first seen back at the Ingress" in text
    code, _ = run(project, observer, to="ingress", now=back + WAIT, apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["ingress"]


def test_removing_the_gateway_before_dns_ever_moved_needs_no_wait(project: Path) -> None:
    set_doors(project, BOTH)
    code, _ = run(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE), to="ingress", apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["ingress"]


def test_dns_handing_out_both_addresses_restarts_the_wait(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    at_gateway = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)})
    both = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP, INGRESS_IP)})
    run(project, at_gateway, now=T0)  # first seen at the Gateway
    run(project, both, now=T0 + 60)  # the Ingress takes new sockets again
    assert proof.read(project, "prod").dns is None
    run(project, both, now=T0 + WAIT - 10)
    text = refused(project, at_gateway, now=T0 + WAIT + 1)  # the Gateway alone again: the wait counts from now
    assert f"wait: {WAIT} s left" in text
    code, _ = run(project, at_gateway, now=T0 + 2 * WAIT + 1, apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["gateway"]


def test_dns_handing_out_both_addresses_restarts_the_wait_on_the_way_back(project: Path) -> None:
    set_doors(project, BOTH)
    at_ingress = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (INGRESS_IP,)})
    both = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP, INGRESS_IP)})
    run(project, both, now=T0, to="ingress")  # mixed: the Gateway takes sockets
    run(project, at_ingress, now=T0 + 60, to="ingress")  # first seen back at the Ingress
    run(project, both, now=T0 + 120, to="ingress")  # mixed again
    code, text = run(project, at_ingress, now=T0 + 60 + WAIT, to="ingress", apply_next=True)
    assert code == EXIT_FAILED and "step 2 dns-back: not reached" in text
    code, _ = run(project, at_ingress, now=T0 + 2 * WAIT + 60, to="ingress", apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["ingress"]


def test_removing_the_gateway_after_a_pass_waits_even_if_dns_was_never_seen_at_it(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    at_ingress = FakeObserver(gateway=PROVEN, certificate=ACTIVE)
    code, text = run(project, at_ingress, to="ingress", apply_next=True)
    assert code == EXIT_FAILED and "the Gateway stays until" in text
    code, _ = run(project, at_ingress, now=T0 + WAIT, to="ingress", apply_next=True)
    assert code == EXIT_OK and doors_of(project) == ["ingress"]


def test_a_stack_file_with_crlf_line_ends_keeps_them(project: Path) -> None:
    path = project / "Pulumi.prod.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert run(project, FakeObserver(), apply_next=True)[0] == EXIT_OK
    raw = path.read_bytes()
    assert b"coditect:frontDoors: [ingress, gateway]\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


# --- the evaluation as a pure function


def test_next_doors_follows_the_one_allowed_order() -> None:
    base = dict(bundle_version="v1.5.1", gateway_name="gw", hosts=(HOST,), namespace="ns", timeout_sec=10, prefix="coditect-prod")
    extra = dict(project="p", context="c", ingress_name="i", socketio_path="/s/", digest="d")

    def plan(doors: tuple[str, ...], to: str, seen: Seen) -> Any:
        s = MigrationSettings(stack="prod", front_doors=doors, **base, **extra)  # type: ignore[arg-type]
        return evaluate(s, to, seen, Memory(), T0, TTL)

    assert next_doors(plan(INGRESS_ONLY, "gateway", Seen())) == BOTH
    assert next_doors(plan(GATEWAY_ONLY, "gateway", Seen())) is None
    assert next_doors(plan(GATEWAY_ONLY, "ingress", Seen())) == BOTH
    assert next_doors(plan(INGRESS_ONLY, "ingress", Seen())) is None


# --- arguments and the proof file's bounds


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--now", "yesterday"], "--now 'yesterday' is not a time"),
        (["--now", "2026-12-02T05:00:00"], "has no UTC offset"),
        (["--now", "nan"], "is not a time"),
        (["--dns-ttl", "-1"], "--dns-ttl must be 0..172800"),
        (["--dns-ttl", "1e3"], "--dns-ttl '1e3' is not a whole number"),
        (["--dry-run"], "--dry-run goes with --next"),
        (["--timeout", "nan"], "--timeout must be a finite number of seconds"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["--project", str(project), "migrate", "prod", "--to", "gateway", *argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_what_if_time_writes_no_memory_and_cannot_shorten_the_wait(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    moved = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)})
    before = proof.proof_path(project, "prod").read_text()
    code, text = run(project, moved, now=T0, what_if=1000.0)  # --now far in the past: judged there, never kept
    assert code == EXIT_OK and "first seen at the Gateway 1970-01-01" in text
    assert proof.proof_path(project, "prod").read_text() == before
    text = refused(project, moved, now=T0)  # at the clock: DNS is first seen now, the whole wait is ahead
    assert f"wait: {WAIT} s left" in text and doors_of(project) == ["ingress", "gateway"]


def test_now_with_next_is_refused(project: Path) -> None:
    set_doors(project, BOTH)
    with pytest.raises(UsageError, match="--now is for a what-if look at the plan; --next judges the waits at the clock"):
        run(project, FakeObserver(), what_if=T0 + 10 * WAIT, apply_next=True)


def _mark(root: Path, since: float) -> None:
    path = proof.proof_path(root, "prod")
    data = json.loads(path.read_text())
    data["dns"], data["gatewayServed"] = {"door": "gateway", "ip": GATEWAY_IP, "since": since}, True
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("since, message", [(T0 + 1, "is after the clock"), (T0 - 3600, "is before the pass it follows")])
def test_a_dns_mark_that_is_no_real_sighting_is_refused(project: Path, since: float, message: str) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)  # passed at T0 - 60
    _mark(project, since)
    with pytest.raises(UsageError, match=message):
        run(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)}), now=T0, apply_next=True)
    _mark(project, T0 - 30)  # after the pass, before the clock: a sighting
    assert "wait: " in run(project, FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)}), now=T0)[1]


def test_a_new_pass_after_the_cutover_restarts_the_wait(project: Path) -> None:
    set_doors(project, BOTH)
    fresh_proof(project)
    moved = FakeObserver(gateway=PROVEN, certificate=ACTIVE, dns={HOST: (GATEWAY_IP,)})
    run(project, moved, now=T0)
    fresh_proof(project, at=T0 + WAIT)  # verified again (new settings, say): its sighting is counted from after it
    assert proof.read(project, "prod").dns is None
    text = refused(project, moved, now=T0 + WAIT + 1)
    assert f"wait: {WAIT} s left" in text


def test_parse_now_and_ttl_accept_valid_values() -> None:
    assert parse_now("2026-12-02T05:00:00Z") == parse_now("2026-12-02T06:00:00+01:00") == 1_796_187_600.0
    assert parse_now(None) is None and parse_now("1800000000") == T0 and parse_ttl("0") == 0 and parse_ttl("172800") == 172_800


@pytest.mark.parametrize("doors", [("ingress", "ingress"), ("nginx",), ()])
def test_the_front_doors_key_is_checked(project: Path, capsys: pytest.CaptureFixture[str], doors: tuple[str, ...]) -> None:
    set_doors(project, doors)
    assert main(["--project", str(project), "migrate", "prod", "--to", "gateway", "--next"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"coditect:frontDoors is {list(doors)!r}; it must be one of [ingress], [ingress, gateway], [gateway]" in err


def test_the_plan_reads_the_certificate_by_the_components_name(project: Path) -> None:
    from coditect.certificate_manager import certificate_name

    s = read_settings("prod", project)
    assert s.certificate_name == certificate_name("coditect-prod", (HOST,)) and s.certificate_name.startswith("coditect-prod-gw-cert-")


def test_the_front_doors_in_either_order_are_both(project: Path) -> None:
    set_doors(project, ("gateway", "ingress"))
    assert read_settings("prod", project).front_doors == BOTH


HOSTILE_PROOFS = [
    (b"{not json", "is not JSON"),
    (b"x" * (proof.MAX_BYTES + 1), f"is larger than {proof.MAX_BYTES} bytes"),
    (b"[]", "is not a version-1 proof file"),
    (json.dumps({"version": 1, "stack": "staging"}).encode(), "is the proof of stack 'staging', not of prod"),
    (
        b'{"version": 1, "stack": "prod", "proof": {"stack": "prod", "host": "h", "ip": "1.2.3.4", "url": "u", "time": NaN, "verdict": "pass", "settings": "d"}}',
        "proof.time is nan",
    ),
    (
        json.dumps(
            {
                "version": 1,
                "stack": "prod",
                "proof": {"stack": "prod", "host": "h", "ip": "not-an-ip", "url": "u", "time": 1, "verdict": "pass", "settings": "d"},
            }
        ).encode(),
        "proof.ip 'not-an-ip' is not an IP address",
    ),
    (json.dumps({"version": 1, "stack": "prod", "dns": {"door": "side", "ip": "1.2.3.4", "since": 1}}).encode(), "dns.door is 'side'"),
    (json.dumps({"version": 1, "stack": "prod", "gatewayServed": "yes"}).encode(), "is 'yes', not bool"),
    (b"[" * 100_000, "is larger than"),
]


@pytest.mark.parametrize("content, message", HOSTILE_PROOFS, ids=range(len(HOSTILE_PROOFS)))
def test_a_hostile_proof_file_is_one_line_and_exit_2(project: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str) -> None:
    path = proof.proof_path(project, "prod")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    before = (project / "Pulumi.prod.yaml").read_bytes()
    assert main(["--project", str(project), "migrate", "prod", "--to", "gateway", "--next"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 700 and message in err and "Fix: delete it" in err, err
    assert (project / "Pulumi.prod.yaml").read_bytes() == before


def test_a_deeply_nested_proof_file_under_the_size_cap_is_refused_too(tmp_path: Path) -> None:
    path = proof.proof_path(tmp_path, "prod")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"[" * 60_000)
    with pytest.raises(UsageError, match="is not JSON"):
        proof.read(tmp_path, "prod")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(max_size=8), lambda c: st.lists(c) | st.dictionaries(st.text(max_size=8), c), max_leaves=10
    ).map(lambda v: json.dumps({"version": 1, "stack": "prod", "proof": v}).encode())
)
def test_any_proof_file_is_read_or_refused_in_one_line(tmp_path: Path, content: bytes) -> None:
    path = proof.proof_path(tmp_path, "prod")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    try:
        proof.read(tmp_path, "prod")
    except UsageError as error:
        assert "\n" not in str(error) and len(str(error)) < 700


def test_a_proof_round_trips_and_keeps_the_dns_mark(tmp_path: Path) -> None:
    mark = proof.note_dns(tmp_path, "prod", "gateway", GATEWAY_IP, T0)
    assert proof.note_dns(tmp_path, "prod", "gateway", GATEWAY_IP, T0 + 50) == mark  # the first sighting is kept
    record = proof.Proof("prod", HOST, "2001:db8::1", "https://x/", T0, "pass", "d")
    proof.record_proof(tmp_path, record)
    memory = proof.read(tmp_path, "prod")
    assert memory == proof.Memory(record, mark, True)


# --- the proof's digest: the validated settings the Gateway is built from


def _digest_after(root: Path, old: str, new: str) -> str:
    stack_file = root / "Pulumi.prod.yaml"
    text = stack_file.read_text()
    assert old in text
    stack_file.write_text(text.replace(old, new, 1))
    return read_settings("prod", root).digest


DEPLOYMENT = "  coditect:deployment:\n    name: coditect-combined\n"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (DEPLOYMENT, DEPLOYMENT + "    servingPort: 8081\n"),  # the HealthCheckPolicy's port
        (DEPLOYMENT, DEPLOYMENT + "    healthPath: /ready\n"),  # its requestPath
        ("  coditect:namespace: coditect-app\n", "  coditect:namespace: coditect-edge\n"),  # every Gateway object's namespace
        ("    version: 1.4.2\n", "    version: 1.4.3\n"),  # the pods behind it
    ],
)
def test_a_change_to_what_the_gateway_serves_makes_the_digest_new(project: Path, old: str, new: str) -> None:
    before = read_settings("prod", project).digest
    assert _digest_after(project, old, new) != before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (DEPLOYMENT, DEPLOYMENT + "    healthPath: /healthz\n"),  # the default, written out
        (DEPLOYMENT, DEPLOYMENT + "    # a comment\n"),
        (BUNDLE, BUNDLE + "  coditect:frontDoors: [ingress, gateway]\n"),  # a step of the migration
    ],
)
def test_the_same_settings_written_otherwise_keep_the_digest(project: Path, old: str, new: str) -> None:
    before = read_settings("prod", project).digest
    assert _digest_after(project, old, new) == before


def test_a_proof_is_recordable_only_for_a_committed_stack_file(project: Path) -> None:
    from ops.migrate.settings import uncommitted

    assert "git cannot tell whether Pulumi.prod.yaml is committed" in str(uncommitted("prod", project))  # not a repository
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-q", "-m", "stacks"]):
        subprocess.run(["git", "-C", str(project), *command], check=True, capture_output=True)
    assert uncommitted("prod", project) is None
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace("    version: 1.4.2\n", "    version: 1.4.3\n"))
    assert (
        uncommitted("prod", project) == "Pulumi.prod.yaml has uncommitted changes, and what is deployed is a committed revision (git diff -- Pulumi.prod.yaml)"
    )
    subprocess.run(["git", "-C", str(project), "checkout", "-q", "--", "Pulumi.prod.yaml"], check=True)
    assert uncommitted("prod", project) is None


# --- the live readers


def test_resolve_answers_loopback_and_names_a_hung_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "127.0.0.1" in resolve("localhost", 5.0)  # /etc/hosts: no name server is asked

    def unknown(*_args: Any, **_kwargs: Any) -> Any:
        # What getaddrinfo raises for a name no server knows; asking the machine's resolver for a .invalid name
        # instead takes its timeout when no name server answers (offline), which made the test depend on the host.
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    assert resolve("does-not-exist.invalid", 5.0) == ()

    def hung(*_args: Any, **_kwargs: Any) -> Any:
        time.sleep(3)
        raise socket.gaierror("late")

    monkeypatch.setattr(socket, "getaddrinfo", hung)
    start = time.monotonic()
    with pytest.raises(ObservationError, match=r"DNS: app.test was not resolved within 0.3 s"):
        resolve("app.test", 0.3)
    assert time.monotonic() - start < 1.5


class CertificateManagerStandIn(BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        status, body = self.answers.get(self.path, (404, b'{"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}'))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def certificate_manager() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CertificateManagerStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_certificate_reader_reads_state_authorizations_and_records(certificate_manager: str) -> None:
    base = "/v1/projects/coditect-prod/locations/global"
    authorization = "projects/coditect-prod/locations/global/dnsAuthorizations/coditect-prod-auth-0"
    CertificateManagerStandIn.answers = {
        f"{base}/certificates/coditect-prod-gw-cert": (
            200,
            json.dumps(
                {
                    "name": "projects/coditect-prod/locations/global/certificates/coditect-prod-gw-cert",
                    "managed": {
                        "domains": [HOST],
                        "dnsAuthorizations": [authorization],
                        "state": "PROVISIONING",
                        "authorizationAttemptInfo": [{"domain": HOST, "state": "AUTHORIZING"}],
                        "provisioningIssue": {"reason": "AUTHORIZATION_ISSUE", "details": "CNAME not found"},
                    },
                }
            ).encode(),
        ),
        f"/v1/{authorization}": (
            200,
            json.dumps({"domain": HOST, "dnsResourceRecord": {"name": RECORD.name, "type": "CNAME", "data": RECORD.data}}).encode(),
        ),
    }
    reader = CertificateReader("coditect-prod", certificate_manager, 5.0)
    state = reader.certificate("coditect-prod-gw-cert")
    assert state == CertificateState("coditect-prod-gw-cert", "PROVISIONING", ((HOST, "AUTHORIZING"),), "AUTHORIZATION_ISSUE CNAME not found", (RECORD,))
    assert reader.certificate("absent") is None


def test_the_certificate_reader_refuses_an_answer_of_the_wrong_shape(certificate_manager: str) -> None:
    from livestate.model import Malformed

    path = "/v1/projects/coditect-prod/locations/global/certificates/coditect-prod-gw-cert"
    CertificateManagerStandIn.answers = {path: (200, json.dumps({"name": "x", "managed": {"state": 3}}).encode())}
    with pytest.raises(Malformed, match=r"managed.state is an integer, not a string"):
        CertificateReader("coditect-prod", certificate_manager, 5.0).certificate("coditect-prod-gw-cert")
    CertificateManagerStandIn.answers = {path: (403, b'{"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}')}
    from livestate.model import AccessDenied

    with pytest.raises(AccessDenied, match=r"certificatemanager\.certs\.get"):
        CertificateReader("coditect-prod", certificate_manager, 5.0).certificate("coditect-prod-gw-cert")


class FakeKube:
    def __init__(self, ingress: Any) -> None:
        self.found = ingress

    def ingress(self, namespace: str, name: str) -> Any:
        assert (namespace, name) == ("coditect-app", "coditect-ingress")
        return self.found

    def close(self) -> None:
        pass


def live(kube: FakeKube) -> Any:
    from ops.migrate.observe import LiveObserver

    observer = LiveObserver("coditect-app", "coditect-gateway", ("coditect-gateway-app",), "coditect-ingress", "c", "p", "ctx")
    observer._kube = kube
    return observer


def test_the_live_observer_reads_the_ingress_address_and_refuses_a_malformed_one() -> None:
    assert live(FakeKube({"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}})).ingress_address() == INGRESS_IP
    assert live(FakeKube({"status": {}})).ingress_address() is None and live(FakeKube(None)).ingress_address() is None
    with pytest.raises(ObservationError, match=r"status.loadBalancer.ingress\[\].ip 'x\?y' is not an IP address"):
        live(FakeKube({"status": {"loadBalancer": {"ingress": [{"ip": "x\x1by"}]}}})).ingress_address()


# --- the whole command against the stand-in cluster (tests/standin), through the real kubernetes client

STANDIN_GATEWAY_IP = "34.117.80.12"  # status.addresses of tests/fixtures/inspect/k8s_gateway.json
STANDIN_INGRESS_IP = "34.120.7.42"  # status.loadBalancer of tests/fixtures/inspect/k8s_ingress.json


def in_namespace(world: Any, namespace: str) -> Any:
    """The stand-in's objects moved from prod's namespace to another stack's (staging names everything else alike)."""
    from tests.standin.world import NAMESPACE, World

    return World(**{**world.__dict__, "kube": json.loads(json.dumps(world.kube).replace(NAMESPACE, namespace))})


def active_certificate(project_id: str, name: str, host: str) -> None:
    managed = {"domains": [host], "state": "ACTIVE", "authorizationAttemptInfo": [{"domain": host, "state": "AUTHORIZED"}]}
    CertificateManagerStandIn.answers = {
        f"/v1/projects/{project_id}/locations/global/certificates/{name}": (200, json.dumps({"name": name, "managed": managed}).encode())
    }


def migrate_against(
    world: Any, root: Path, stack: str, certificates: str, tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    from ops.migrate import observe
    from tests.standin.harness import running
    from tests.standin.world import CONTEXT

    monkeypatch.setattr(observe, "resolve", lambda host, timeout: (STANDIN_INGRESS_IP,))  # DNS still at the Ingress
    with running(world, tmp) as standins:
        argv = ["--project", str(root), "migrate", stack, "--to", "gateway", "--kubeconfig", str(standins.kubeconfig), "--context", CONTEXT]
        code = main([*argv, "--certificate-endpoint", certificates, "--timeout", "30"])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_staging_against_the_stand_in_is_proven_side_by_side_and_says_the_verify_command(
    project: Path, certificate_manager: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.standin.gateway_world import gateway_world

    world = in_namespace(gateway_world(), "coditect-staging")
    active_certificate("coditect-staging", read_settings("staging", project).certificate_name, "staging.coditect.ai")
    code, text = migrate_against(world, project, "staging", certificate_manager, tmp_path, monkeypatch, capsys)
    assert code == EXIT_OK and current(text) == ">>>> 3 verified"
    assert f"Gateway coditect-gateway: accepted yes, programmed yes, routes_ok yes, policies_attached yes; addresses {STANDIN_GATEWAY_IP}" in text
    assert f"`python -m ops verify https://staging.coditect.ai/theia/socket.io/ --resolve staging.coditect.ai:{STANDIN_GATEWAY_IP}`" in text
    read = {path.split("?")[0] for _api, _method, path in world.requests}
    assert "/apis/gateway.networking.k8s.io/v1/namespaces/coditect-staging/httproutes/coditect-gateway-redirect" in read
    assert {method for _api, method, _path in world.requests} == {"GET"}  # the plan reads, never writes


def test_prod_against_the_stand_in_names_the_gateway_problem_and_an_absent_gateway(
    project: Path, certificate_manager: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.standin.gateway_world import GWCER106, address_not_found, gateway_world
    from tests.standin.world import healthy_world

    set_doors(project, BOTH)
    active_certificate("coditect-prod", read_settings("prod", project).certificate_name, HOST)
    world = gateway_world()
    address_not_found(world)
    code, text = migrate_against(world, project, "prod", certificate_manager, tmp_path, monkeypatch, capsys)
    assert code == EXIT_OK and current(text) == ">>>> 2 side-by-side"
    assert "programmed NO" in text and GWCER106 in text and "addresses none" in text
    code, text = migrate_against(healthy_world(), project, "prod", certificate_manager, tmp_path, monkeypatch, capsys)
    assert code == EXIT_OK and current(text) == ">>>> 2 side-by-side"
    assert "Gateway coditect-app/coditect-gateway does not exist: `pulumi up -s prod` creates it" in text


def test_prod_with_the_ingress_only_reads_no_gateway(
    project: Path, certificate_manager: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.standin.gateway_world import gateway_world

    world = gateway_world()
    code, text = migrate_against(world, project, "prod", certificate_manager, tmp_path, monkeypatch, capsys)
    assert code == EXIT_OK and current(text) == ">>>> 1 certificate" and f"the Ingress serves at {STANDIN_INGRESS_IP}" in text
    assert "`python -m ops migrate prod --to gateway --next` (writes frontDoors [ingress, gateway])" in text
    assert [path for _api, _method, path in world.requests] == ["/apis/networking.k8s.io/v1/namespaces/coditect-app/ingresses/coditect-ingress"]


def test_next_is_refused_while_another_command_holds_the_stack_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ops.atomic import locked\nwith locked(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(30)",
            str(project / "Pulumi.prod.yaml"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        before = (project / "Pulumi.prod.yaml").read_bytes()
        assert main(["--project", str(project), "migrate", "prod", "--to", "gateway", "--next"]) == EXIT_WRITE
        assert "is being written by another command" in capsys.readouterr().err
        assert (project / "Pulumi.prod.yaml").read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
