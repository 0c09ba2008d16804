"""The arguments of `ops probe`, checked; import-light, so the command line checks them (and the
kubeconfig) before loading the Kubernetes client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ops.errors import UsageError
from ops.probe.job import DEFAULT_IMAGE
from ops.probe.table import DEFAULT_REGISTRY


@dataclass(frozen=True)
class Options:
    stack: str
    root: Path
    peer: str
    registry: str = DEFAULT_REGISTRY
    context: str | None = None
    kubeconfig: str | None = None
    image: str = DEFAULT_IMAGE
    deadline: int = 120  # seconds, the Job's activeDeadlineSeconds
    probe_timeout: float = 3.0
    interval: float = 2.0
    json: bool = False

    def validate(self) -> None:
        if not 10 <= self.deadline <= 3600 or not 0.1 <= self.probe_timeout <= 60 or self.interval <= 0:
            raise UsageError("--deadline must be 10..3600 s, --probe-timeout 0.1..60 s")
        if self.probe_timeout * 2 >= self.deadline:
            raise UsageError(f"--probe-timeout {self.probe_timeout:g} leaves the pod no time within --deadline {self.deadline}")
        if not self.image or any(c.isspace() for c in self.image):
            raise UsageError(f"--image {self.image[:100]!r} is not an image reference")
