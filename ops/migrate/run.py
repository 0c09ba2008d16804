"""`python -m ops migrate STACK --to gateway|ingress [--next]`: the plan printed, or its next settings change written.

Without --next it prints every step, which one the stack is at, the exact next command and each step's
rollback; it writes nothing but the migration's memory (.cache/migrate/<stack>.json: when DNS was first
seen at a front door, which the wait before removing the other is counted from; never with --now, a what-if time). With --next it writes the
next frontDoors change into Pulumi.<stack>.yaml under the file's writers' lock, or refuses saying why. It
never deploys: the change goes through review and `pulumi up`, as a promotion does.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ops import stack_files
from ops.atomic import locked
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK, Refused, UsageError, shown
from ops.migrate import edit, proof
from ops.migrate.observe import Observer
from ops.migrate.plan import Plan, evaluate, needs_observation, next_doors
from ops.migrate.seen import Seen, observe
from ops.migrate.settings import GATEWAY, INGRESS, MigrationSettings, doors_text, read_settings

MAX_DNS_TTL_S = 172_800  # two days: a TTL longer than that is not one to wait out before a cutover
ObserverFactory = Callable[[MigrationSettings], Observer]


def parse_now(text: str | None) -> float | None:
    """--now: seconds since the epoch, or an ISO 8601 time with its offset (2026-12-02T05:00:00Z); None: the clock."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--now {shown(text)} is not a time: give seconds since the epoch or ISO 8601 with an offset, e.g. 2026-12-02T05:00:00Z") from None
        if moment.tzinfo is None:
            raise UsageError(f"--now {shown(text)} has no UTC offset, so it names no one instant. Fix: end it with Z or +HH:MM") from None
        return moment.timestamp()
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"--now {shown(text)} is not a time (seconds since the epoch, at least 0)")
    return value


def parse_ttl(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--dns-ttl {shown(text)} is not a whole number of seconds") from None
    if not 0 <= value <= MAX_DNS_TTL_S:
        raise UsageError(f"--dns-ttl must be 0..{MAX_DNS_TTL_S} seconds (the TTL of the hosts' DNS records), not {value}")
    return value


def _note_dns(root: Path, s: MigrationSettings, seen: Seen, memory: proof.Memory, now: float, write: bool) -> proof.Memory:
    """The memory with the front door DNS points at now, first-seen time kept (written when it changed and `write`).

    DNS that is readable but not all at one door (both addresses handed out, or another one) clears the mark:
    each door can still take new sockets, so the wait before removing either starts again once DNS settles.
    Such DNS also counts as having served through the Gateway (the way back must wait for its sockets)."""
    if "dns" in seen.unknown or not seen.dns:
        return memory
    ingress = frozenset([seen.ingress_ip]) if seen.ingress_ip else frozenset()
    for door, ips in ((GATEWAY, seen.gateway_ips), (INGRESS, ingress)):
        if seen.all_at(ips, s.hosts):
            ip = sorted(ips)[0]
            if not write:  # a what-if look (--now): judged as if noted, never kept
                kept = memory.dns if memory.dns is not None and (memory.dns.door, memory.dns.ip) == (door, ip) else proof.DnsMark(door, ip, now)
                return proof.Memory(memory.proof, kept, memory.gateway_served or door == GATEWAY)
            mark = proof.note_dns(root, s.stack, door, ip, now)
            return proof.Memory(memory.proof, mark, memory.gateway_served or door == GATEWAY)
    if write:
        proof.clear_dns(root, s.stack)
    return proof.Memory(memory.proof, None, True)


def _exit(seen: Seen) -> int:
    return EXIT_NO_ACCESS if seen.denied else EXIT_FAILED if seen.unknown else EXIT_OK


def migrate(
    stack: str,
    to: str,
    out: TextIO,
    observer: ObserverFactory,
    *,
    root: Path,
    apply_next: bool = False,
    dry_run: bool = False,
    now: float | None = None,
    dns_ttl: int = 300,
    clock: Callable[[], float] = time.time,
) -> int:
    """`now` is --now, a what-if time: the plan is judged at it and the memory is never written (a time that is
    not the clock's must not become a first sighting). --next is judged at the clock only."""
    if to not in (GATEWAY, INGRESS):
        raise UsageError(f"--to {shown(to)}: migrate to gateway or ingress")
    if now is not None and apply_next:
        raise UsageError("--now is for a what-if look at the plan; --next judges the waits at the clock. Fix: drop --now")
    real = clock()
    at = real if now is None else now
    path = root / f"Pulumi.{stack}.yaml"
    settings = read_settings(stack, root)  # refuses a bad stack name or file before any lock or read of the cluster
    with locked(path) if apply_next and not dry_run else contextlib.nullcontext():
        document = stack_files.read_document(path)
        settings = read_settings(stack, root)
        memory = proof.read(root, stack)
        proof.check_times(root, stack, memory, real)
        live = not apply_next or needs_observation(settings)
        seen = observe(observer(settings), settings) if live else Seen()
        memory = _note_dns(root, settings, seen, memory, at, write=now is None)
        plan = evaluate(settings, to, seen, memory, at, dns_ttl)
        if not apply_next:
            out.write(plan.text())
            return _exit(seen)
        return _apply(plan, seen, path, document, out, dry_run)


def _apply(plan: Plan, seen: Seen, path: Path, document: stack_files.StackDocument, out: TextIO, dry_run: bool) -> int:
    s = plan.settings
    try:
        doors = next_doors(plan)
    except Refused as refusal:  # the error boundary writes it on stderr; a denied read is why, so it exits as one
        if seen.denied:
            raise Refused(refusal.reason, refusal.problems, exit_code=EXIT_NO_ACCESS) from None
        raise
    if doors is None:
        out.write(f"{s.stack}: frontDoors is {doors_text(s.front_doors)}, the end of the migration to the {plan.to} front door; nothing to do.\n")
        return EXIT_OK
    heading = f"{path.name}: frontDoors {doors_text(s.front_doors)} -> {doors_text(doors)}"
    if dry_run:
        text = edit.with_front_doors(document, doors)
        from ops.textdiff import unified_diff

        out.write(f"{heading}\n{unified_diff(document.text, text, f'{path.name} (before)', f'{path.name} (after)')}--dry-run: nothing written.\n")
        return EXIT_OK
    diff = edit.write_front_doors(path, document, doors)
    out.write(
        f"{heading}\n{diff}Wrote {path.name}. Nothing was deployed: `python -m ops render {s.stack}` refreshes rendered/{s.stack}/; open a pull request; "
        f"after review `pulumi up -s {s.stack}`; then `python -m ops migrate {s.stack} --to {plan.to}` shows the next step.\n"
    )
    return EXIT_OK
