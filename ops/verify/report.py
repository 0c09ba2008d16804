"""The verdict: one result per check, the pods that answered each session, as text or JSON.

A check's detail and diagnosis quote the server (its status line, body, close reason, a redirect's
Location) and the pods are what the server's header named: each is folded onto one line where the
text places it (`fold`, ops/terminal.py), so no answer can start a line that reads like a verdict.
The JSON document keeps every value exact."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ops.terminal import fold
from ops.verify.advice import Layer


class CheckName(StrEnum):
    HANDSHAKE = "handshake"
    POLLING = "polling"
    WS_UPGRADE = "ws_upgrade"
    WS_ONLY = "ws_only"
    HOLD = "hold"


class Session(StrEnum):
    """The Engine.IO sessions a run opens; the report lists the pods that answered each."""

    POLLING = "polling"
    WEBSOCKET_UPGRADE = "websocket upgrade"
    WEBSOCKET_ONLY = "websocket only"


@dataclass
class Check:
    name: CheckName
    ok: bool | None  # None: skipped
    detail: str
    ms: float = 0.0
    layer: Layer | None = None
    diagnosis: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[self.ok]
        text = f"[{status}] {self.name}: {fold(self.detail)}" + (f" ({self.ms:.0f} ms)" if self.ok is not None else "")
        if self.diagnosis:
            text += f"\n       diagnosis ({self.layer}): {fold(self.diagnosis)}"
        return text


@dataclass
class Report:
    url: str
    checks: list[Check] = field(default_factory=list)
    pods: dict[str, list[str]] = field(default_factory=dict)  # session -> pods that answered it
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok is not False for c in self.checks)

    def check(self, name: str) -> Check:
        """The result of check `name` (a run reports every check, run or skipped); KeyError if absent."""
        found = next((c for c in self.checks if c.name == name), None)
        if found is None:
            raise KeyError(name)
        return found

    def text(self) -> str:
        lines = [c.line() for c in self.checks]
        if self.pods:
            lines.append("pods: " + "; ".join(f"{fold(session)}: {', '.join(map(fold, pods))}" for session, pods in self.pods.items()))
        lines.append(f"verdict: {'PASS' if self.ok else 'FAIL'} in {self.elapsed_s:.2f} s")
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps(
            {"url": self.url, "ok": self.ok, "elapsed_s": round(self.elapsed_s, 3), "checks": [asdict(c) for c in self.checks], "pods": self.pods}, indent=2
        )
