"""A problem found in a manifest: which resource, which rule, what is wrong, how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """Mandatory findings break traffic; advisory ones are hygiene."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


@dataclass(frozen=True)
class Finding:
    resource: str  # "Kind namespace/name"
    rule: str  # stable rule id, e.g. "ingress-backend-service-exists"
    problem: str
    fix: str
    level: Level = Level.MANDATORY
    # What inside the resource the finding is about (a container name, a field path), so that a
    # caller can map it back to its own configuration without parsing the message.
    subject: str | None = None

    def __str__(self) -> str:
        return f"{self.resource}: {self.problem} Fix: {self.fix}"

    @property
    def message(self) -> str:
        """The one-line form every tool prints: ``[rule-id] Kind ns/name: problem Fix: fix``."""
        return f"[{self.rule}] {self}"


def resource_id(kind: str, name: str, namespace: str | None = None) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
