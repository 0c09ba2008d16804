"""The migration's memory: `.cache/migrate/<stack>.json`, written atomically under its writers' lock.

It holds what the live system cannot tell later:
- `proof`: the last passing `ops verify URL --resolve HOST:IP` (stack, host, IP, URL, time, verdict, and the
  digest of the stack's validated settings, settings.digest, so a later change to them makes the proof stale; only a
  committed stack file's, settings.uncommitted);
- `dns`: which front door every host was first seen resolving to, and since when (the rollback window and the
  wait before the Ingress goes are counted from it: the first sighting is never earlier than the real cutover);
- `gatewayServed`: whether DNS ever pointed at the Gateway (only then must removing it wait for sockets).

The file is read bounded (MAX_BYTES) and checked field by field: anything else is one line naming the file,
the field and the fix (exit 2), never a traceback and never a silent reset.
"""

from __future__ import annotations

import json
import math
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ops.atomic import locked, write_files
from ops.errors import UsageError, clip, shown
from ops.migrate.observe import normalized

MAX_BYTES = 64 * 1024  # a few hundred bytes are written; anything near this is not ours
VERSION = 1
DOORS = ("ingress", "gateway")


def proof_path(root: Path, stack: str) -> Path:
    return root / ".cache" / "migrate" / f"{stack}.json"


@dataclass(frozen=True)
class Proof:
    stack: str
    host: str
    ip: str
    url: str
    time: float  # seconds since the epoch, UTC
    verdict: str  # "pass" (a failed verify is never recorded)
    settings: str  # digest of the Gateway's settings when it passed (plan.MigrationSettings.digest)


@dataclass(frozen=True)
class DnsMark:
    door: str  # the front door every host resolved to: "ingress" or "gateway"
    ip: str
    since: float


@dataclass(frozen=True)
class Memory:
    proof: Proof | None = None
    dns: DnsMark | None = None
    gateway_served: bool = False


def _refuse(path: Path, problem: str) -> UsageError:
    return UsageError(
        f"{clip(str(path), 200)}: {problem}. Fix: delete it (it holds only the migration's proof), then run `python -m ops verify URL --resolve HOST:IP` again"
    )


def _field(path: Path, record: dict[str, Any], where: str, key: str, kind: type) -> Any:
    value = record.get(key)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise _refuse(path, f"{where}.{key} is {shown(value)}, not a time (seconds since the epoch)")
        return float(value)
    text_ok = isinstance(value, str) and bool(value) and len(value) <= 2048 and value.isprintable()
    if not isinstance(value, kind) or (kind is str and not text_ok):
        raise _refuse(path, f"{where}.{key} is {shown(value)}, not {'a printable string' if kind is str else kind.__name__}")
    return value


def _ip(path: Path, record: dict[str, Any], where: str) -> str:
    value = _field(path, record, where, "ip", str)
    try:
        return normalized(value)
    except ValueError:
        raise _refuse(path, f"{where}.ip {shown(value)} is not an IP address") from None


def read(root: Path, stack: str) -> Memory:
    """The stack's migration memory (empty when there is none), or UsageError naming what is wrong with the file."""
    path = proof_path(root, stack)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise _refuse(path, "is not a regular file")
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return Memory()
    if len(raw) > MAX_BYTES:
        raise _refuse(path, f"is larger than {MAX_BYTES} bytes, which no proof file is")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise _refuse(path, f"is not JSON ({clip(str(error), 120)})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise _refuse(path, f'is not a version-{VERSION} proof file (a JSON object with "version": {VERSION})')
    if data.get("stack") != stack:
        raise _refuse(path, f"is the proof of stack {shown(data.get('stack'))}, not of {stack}")
    return Memory(_proof(path, data.get("proof"), stack), _dns(path, data.get("dns")), _field(path, {"v": data.get("gatewayServed", False)}, "", "v", bool))


def _proof(path: Path, record: Any, stack: str) -> Proof | None:
    if record is None:
        return None
    if not isinstance(record, dict):
        raise _refuse(path, f"proof is {shown(record)}, not an object")
    found = Proof(
        stack=_field(path, record, "proof", "stack", str),
        host=_field(path, record, "proof", "host", str),
        ip=_ip(path, record, "proof"),
        url=_field(path, record, "proof", "url", str),
        time=_field(path, record, "proof", "time", float),
        verdict=_field(path, record, "proof", "verdict", str),
        settings=_field(path, record, "proof", "settings", str),
    )
    if found.stack != stack or found.verdict != "pass":
        raise _refuse(path, f"proof is of stack {shown(found.stack)} with verdict {shown(found.verdict)}; only passes of {stack} are recorded")
    return found


def _dns(path: Path, record: Any) -> DnsMark | None:
    if record is None:
        return None
    if not isinstance(record, dict):
        raise _refuse(path, f"dns is {shown(record)}, not an object")
    door = _field(path, record, "dns", "door", str)
    if door not in DOORS:
        raise _refuse(path, f"dns.door is {shown(door)}, not one of {', '.join(DOORS)}")
    return DnsMark(door, _ip(path, record, "dns"), _field(path, record, "dns", "since", float))


def _text(stack: str, memory: Memory) -> str:
    data: dict[str, Any] = {"version": VERSION, "stack": stack, "gatewayServed": memory.gateway_served}
    if memory.proof is not None:
        data["proof"] = asdict(memory.proof)
    if memory.dns is not None:
        data["dns"] = asdict(memory.dns)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def record_proof(root: Path, proof: Proof) -> Path:
    """Keep `proof` (a pass) as the stack's latest, all or nothing; the rest of the memory stays."""
    path = proof_path(root, proof.stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        memory = read(root, proof.stack)
        # A sighting at the Gateway before this pass is not counted from: the wait starts again when it is next seen.
        dns = None if memory.dns is not None and memory.dns.door == "gateway" and memory.dns.since < proof.time else memory.dns
        write_files({path: _text(proof.stack, Memory(proof, dns, memory.gateway_served))})
    return path


def note_dns(root: Path, stack: str, door: str, ip: str, now: float) -> DnsMark:
    """The DNS mark after seeing every host at `door`'s `ip` at `now`: kept when it already says so (its time is
    the first sighting), else replaced and written."""
    path = proof_path(root, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        memory = read(root, stack)
        if memory.dns is not None and memory.dns.door == door and memory.dns.ip == ip:
            return memory.dns
        mark = DnsMark(door, ip, now)
        write_files({path: _text(stack, Memory(memory.proof, mark, memory.gateway_served or door == "gateway"))})
        return mark


def clear_dns(root: Path, stack: str) -> None:
    """Forget the DNS mark (DNS is mixed: no door has every host), keeping the proof; gatewayServed becomes true."""
    path = proof_path(root, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        memory = read(root, stack)
        if memory.dns is not None or not memory.gateway_served:
            write_files({path: _text(stack, Memory(memory.proof, None, True))})


def check_times(root: Path, stack: str, memory: Memory, clock: float) -> None:
    """UsageError when the DNS mark's time cannot be a real first sighting: after the clock, or (at the Gateway)
    before the pass it needs (record_proof drops such a mark, so only an edited or older file has one)."""
    mark, path = memory.dns, proof_path(root, stack)
    if mark is None:
        return
    if mark.since > clock:
        raise _refuse(path, f"dns.since {mark.since} is after the clock ({clock:.0f}): no sighting is in the future")
    if mark.door == "gateway" and memory.proof is not None and mark.since < memory.proof.time:
        raise _refuse(path, f"dns.since {mark.since} at the Gateway is before the pass it follows (proof.time {memory.proof.time})")


def _hosts(root: Path, stack: str) -> list[str]:
    from ops import stack_files

    config = stack_files.read(root / f"Pulumi.{stack}.yaml").get("config") or {}
    hosts = config.get("coditect:hosts") if isinstance(config, dict) else None
    return [str(host).lower() for host in hosts] if isinstance(hosts, list) else []


def stack_for_host(root: Path, host: str, stack: str | None) -> str | None:
    """The stack a pass through `host` is recorded for: `stack` when it lists the host (else UsageError), or the
    one stack file whose coditect:hosts lists it (None when none does, UsageError when several do)."""
    from ops.program import is_stack_name, stack_file_names, stack_path

    if stack is not None:
        stack_path(stack, root)  # a bad name or a missing file: StackFileError naming it
        if host not in _hosts(root, stack):
            raise UsageError(f"--stack {stack}: Pulumi.{stack}.yaml does not list {shown(host)} in coditect:hosts. Fix: pass the stack that serves it")
        return stack
    listing = [name for name in stack_file_names(root) if is_stack_name(name) and host in _hosts(root, name)]
    if len(listing) > 1:
        raise UsageError(f"{shown(host)} is in coditect:hosts of {', '.join(listing)}. Fix: pass --stack to say which stack the pass is for")
    return listing[0] if listing else None
