"""What `ops verify` is asked to do, and the usage errors that stop it before any request."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from components.protocol import POD_HEADER

DEFAULT_POLLS = 10  # 3 sid-carrying requests a round: missing affinity over 2 pods slips through with p = 2^-30


class VerifyUsageError(ValueError):
    pass


@dataclass
class Options:
    url: str
    polls: int = DEFAULT_POLLS
    hold: float = 0.0
    headers: list[tuple[str, str]] = field(default_factory=list)
    namespace: str = "/"
    source_address: str | None = None
    timeout: float = 10.0
    insecure: bool = False
    pod_header: str = POD_HEADER

    def validate(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https", "ws", "wss"} or not parts.hostname:
            raise VerifyUsageError(f"URL {self.url!r} must be http(s)://host/path/to/socket.io/")
        if self.polls < 1:
            raise VerifyUsageError("--polls must be at least 1")
        if self.hold < 0 or self.timeout <= 0:
            raise VerifyUsageError("--hold must be >= 0 and --timeout > 0")
        if not self.namespace.startswith("/"):
            raise VerifyUsageError("--namespace must start with '/' (e.g. / or /admin)")
        if self.source_address is not None:
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in self.source_address else socket.AF_INET, self.source_address)
            except OSError:
                raise VerifyUsageError(f"--source-address {self.source_address!r} is not an IP address") from None


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise VerifyUsageError(f"--header {text!r} must look like 'Name: value'")
    return name.strip(), value.strip()
