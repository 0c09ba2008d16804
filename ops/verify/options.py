"""What `ops verify` is asked to do, and the usage errors that stop it before any request.

Every value is checked here, once: a number that is not finite or out of range, a port outside
1..65535, a host that is not an IP address or a DNS name, a header that is not 'token: printable
ASCII'. Each refusal is one line naming the flag (exit code 2), never a traceback.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from coditect.protocol import POD_HEADER
from ops.errors import shown

DEFAULT_POLLS = 10  # 3 sid-carrying requests a round: missing affinity over 2 pods slips through with p = 2^-30
MAX_POLLS = 1000
MAX_HOLD_S = 86_400.0  # a day: longer than any backend timeout a hold is meant to outlast
MAX_TIMEOUT_S = 600.0
MAX_URL_CHARS = 2048
MAX_HEADERS = 64
MAX_HEADER_CHARS = 8192
MAX_NAMESPACE_CHARS = 256
SCHEMES = ("http", "https", "ws", "wss")

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP header name (RFC 9110 token)
HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")  # printable ASCII: what every proxy forwards unchanged
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class VerifyUsageError(ValueError):
    pass


def parse_count(flag: str, text: str) -> int:
    """A whole number given on the command line."""
    try:
        return int(text.strip())
    except ValueError:
        raise VerifyUsageError(f"{flag} {shown(text)} is not a whole number") from None


def parse_seconds(flag: str, text: str) -> float:
    """A number of seconds given on the command line (range and finiteness are Options.validate's)."""
    try:
        return float(text.strip())
    except ValueError:
        raise VerifyUsageError(f"{flag} {shown(text)} is not a number of seconds") from None


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise VerifyUsageError(f"--header {shown(text)} must look like 'Name: value'")
    return name.strip(), value.strip()


def check_host(host: str) -> None:
    """An IPv4 or IPv6 address or an ASCII DNS name; a Unicode name must be given in its IDNA (xn--) form."""
    if ":" in host:
        try:
            socket.inet_pton(socket.AF_INET6, host)
        except OSError:
            raise VerifyUsageError(f"host {shown(host)} is not an IPv6 address") from None
        return
    if not host.isascii():
        try:
            ascii_form = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise VerifyUsageError(f"host {shown(host)} is not a valid internationalized domain name") from None
        raise VerifyUsageError(f"host {shown(host)} is not ASCII: write it in its IDNA form, {shown(ascii_form)}")
    name = host.removesuffix(".")
    if name.replace(".", "").isdecimal():
        try:
            socket.inet_pton(socket.AF_INET, name)
        except OSError:
            raise VerifyUsageError(f"host {shown(host)} is not an IPv4 address") from None
        return
    if len(name) > 253 or not all(DNS_LABEL.fullmatch(label) for label in name.split(".")):
        raise VerifyUsageError(f"host {shown(host)} is not a DNS name (labels of 1-63 letters, digits, hyphens)")


RESOLVE_USAGE = (
    "--resolve must be HOST:IP, like curl's --resolve without the port (the URL's is used): app.example.com:203.0.113.7 or app.example.com:[2001:db8::1]"
)


def parse_resolve(text: str) -> tuple[str, str]:
    """--resolve HOST:IP -> (host, canonical IP): connect to IP, while Host, SNI and the certificate check use HOST."""
    host, sep, address = text.partition(":")
    if not sep or not host or not address:
        raise VerifyUsageError(f"--resolve {shown(text)}: {RESOLVE_USAGE}")
    literal = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    try:
        ip = ipaddress.ip_address(literal)
    except ValueError:
        raise VerifyUsageError(f"--resolve {shown(text)}: {shown(address)} is not an IPv4 or IPv6 address literal. {RESOLVE_USAGE}") from None
    try:
        check_host(host)
    except VerifyUsageError as error:
        raise VerifyUsageError(f"--resolve {shown(text)}: {error}. {RESOLVE_USAGE}") from None
    if host.removesuffix(".").replace(".", "").isdecimal():
        raise VerifyUsageError(f"--resolve {shown(text)}: HOST is an IP address; it must be the DNS name the certificate is for. {RESOLVE_USAGE}")
    return host.lower().removesuffix("."), ip.compressed


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
    resolve: tuple[str, str] | None = None  # (HOST, IP): connect to IP for HOST, as curl --resolve does

    def validate(self) -> None:
        self._validate_url()
        self._validate_resolve()
        self._validate_numbers()
        self._validate_headers()
        if not self.namespace.startswith("/"):
            raise VerifyUsageError("--namespace must start with '/' (e.g. / or /admin)")
        if len(self.namespace) > MAX_NAMESPACE_CHARS or "," in self.namespace or not self.namespace.isprintable():
            raise VerifyUsageError(f"--namespace {shown(self.namespace)} must be printable, without ',', at most {MAX_NAMESPACE_CHARS} characters")
        if self.source_address is not None:
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in self.source_address else socket.AF_INET, self.source_address)
            except (OSError, ValueError):
                raise VerifyUsageError(f"--source-address {shown(self.source_address)} is not an IP address") from None

    def _validate_url(self) -> None:
        usage = f"URL {shown(self.url)} must be http(s)://host/path/to/socket.io/"
        if len(self.url) > MAX_URL_CHARS or not self.url.isprintable() or any(c.isspace() for c in self.url):
            raise VerifyUsageError(f"{usage} (printable, no spaces, at most {MAX_URL_CHARS} characters)")
        try:
            parts = urlsplit(self.url)
            port = parts.port
        except ValueError as error:  # "[::1" (unbalanced brackets), a port that is not a number or out of 0..65535
            raise VerifyUsageError(f"{usage}: {error}") from None
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise VerifyUsageError(usage)
        if port == 0:
            raise VerifyUsageError(f"URL {shown(self.url)}: port 0 is not a port to connect to (1..65535)")
        check_host(parts.hostname)
        try:
            httpx.URL(self.url)
        except httpx.InvalidURL as error:
            raise VerifyUsageError(f"{usage}: {error}") from None

    def _validate_resolve(self) -> None:
        if self.resolve is None:
            return
        host = (urlsplit(self.url).hostname or "").lower().removesuffix(".")
        if self.resolve[0] != host:
            raise VerifyUsageError(f"--resolve HOST {shown(self.resolve[0])} must be the URL's host {shown(host)}: it names which host's address to replace")

    def _validate_numbers(self) -> None:
        if isinstance(self.polls, bool) or not isinstance(self.polls, int) or not 1 <= self.polls <= MAX_POLLS:
            raise VerifyUsageError(f"--polls must be at least 1 and at most {MAX_POLLS}, not {shown(self.polls)}")
        if not _finite_number(self.hold) or not 0 <= self.hold <= MAX_HOLD_S:
            raise VerifyUsageError(f"--hold must be a finite number of seconds from 0 to {MAX_HOLD_S:g}, not {shown(self.hold)}")
        if not _finite_number(self.timeout) or not 0 < self.timeout <= MAX_TIMEOUT_S:
            raise VerifyUsageError(f"--timeout must be a finite number of seconds above 0, at most {MAX_TIMEOUT_S:g}, not {shown(self.timeout)}")

    def _validate_headers(self) -> None:
        if len(self.headers) > MAX_HEADERS:
            raise VerifyUsageError(f"at most {MAX_HEADERS} --header flags")
        for name, value in self.headers:
            _check_header_name("--header", name)
            if len(value) > MAX_HEADER_CHARS or not HEADER_VALUE.fullmatch(value):
                raise VerifyUsageError(f"--header {name}: the value {shown(value)} must be printable ASCII, at most {MAX_HEADER_CHARS} characters")
        _check_header_name("--pod-header", self.pod_header)


def _check_header_name(flag: str, name: str) -> None:
    if len(name) > MAX_HEADER_CHARS or not TOKEN.fullmatch(name):
        raise VerifyUsageError(f"{flag} name {shown(name)} must be an HTTP token (ASCII letters, digits, !#$%&'*+-.^_`|~)")


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
