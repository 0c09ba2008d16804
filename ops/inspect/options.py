"""The arguments of `ops inspect`, checked; import-light, so the command line checks them (and the
kubeconfig) before loading the API clients, which take seconds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ops.errors import UsageError

DEFAULT_INTERVAL = 10.0


@dataclass(frozen=True)
class Options:
    stack: str
    root: Path
    context: str | None = None
    kubeconfig: str | None = None
    project: str | None = None
    gcp_endpoint: str | None = None  # both APIs (a loopback stand-in); each flag below takes precedence for its API
    compute_endpoint: str | None = None
    container_endpoint: str | None = None
    wait: float = 0.0
    interval: float = DEFAULT_INTERVAL
    json: bool = False
    timeout: float = 5.0  # per API request

    def validate(self) -> None:
        # float() takes "nan" and "inf": a NaN passes every comparison, and `--wait nan` would poll for ever.
        if not all(math.isfinite(v) for v in (self.wait, self.interval, self.timeout)) or self.wait < 0 or self.interval <= 0 or self.timeout <= 0:
            raise UsageError("--wait, --interval and --timeout take finite seconds: --wait >= 0, --interval and --timeout > 0")
        for flag, endpoint in (
            ("--gcp-endpoint", self.gcp_endpoint),
            ("--compute-endpoint", self.compute_endpoint),
            ("--container-endpoint", self.container_endpoint),
        ):
            if endpoint and not endpoint.startswith(("http://", "https://")):
                raise UsageError(f"{flag} {endpoint!r} must be a URL (https://… or http://127.0.0.1:PORT)")
