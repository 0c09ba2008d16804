"""Every HTTP exchange the Google Cloud clients make, bounded in time and bytes, in one place.

google-cloud-compute's and google-cloud-container's REST transports read through google-auth's
`AuthorizedSession` (requests over urllib3), whose `timeout` bounds each socket operation: a server
sending one byte a second never trips it, an endless chunked body is buffered until MemoryError and a
gzip body is inflated whole. `bound(transport, seconds)` mounts a `BoundedAdapter` on the transport's
session (and on the session google-auth refreshes tokens through), so each exchange, from connect to
the last body byte, ends within `seconds` in total; the body is capped as sent and as decompressed;
and an error answer is handed to google-api-core in the shape it reads, or as one line saying it was not.
The bounds' vocabulary is livestate.bounds' (Deadline, BoundExceeded, the 1 MiB caps), so every client
the commands use states its limits the same way.
"""

from __future__ import annotations

import io
import json
import socket
import warnings
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from livestate.bounds import ACCEPT_ENCODING, MAX_BODY_BYTES, MAX_DECODED_BYTES, BoundExceeded, Deadline, Stage, decompress
from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable

# google-api-core warns on import, once per Google package, that it will stop supporting this Python in
# new releases (google/api_core/_python_version_support.py); the commands' output is not the place. The
# warning names the caller's module, not api_core's, so it is matched by its text.
warnings.filterwarnings("ignore", message=r"You are using a Python version .* which Google will stop supporting", category=FutureWarning)

T = TypeVar("T")
CHUNK = 65536
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SHOWN_BYTES = 200  # of a body that is not what the API promises, quoted in the one-line error


class NotTheObject(Exception):
    """A JSON answer that is not the API's object (not JSON, nested too deep, a field of the wrong type)."""


class BrokenAnswer(Exception):
    """The answer broke HTTP itself (a body cut short, a corrupt or unasked-for content coding)."""


class Clock:
    """The deadline of the exchange in progress on one adapter (its clients call one at a time)."""

    def __init__(self) -> None:
        self.deadline: Deadline | None = None
        self.sent = False  # whether the exchange's request went out (else it stopped connecting)

    def wait(self, asked: float | None) -> float | None:
        """What one socket operation may wait: the smaller of urllib3's timeout and what the deadline leaves."""
        if self.deadline is None:
            return asked
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError("the exchange's deadline is spent")
        return remaining if asked is None else min(asked, remaining)


class DeadlineSocket:
    """A connected (TLS or plain) socket whose every receive and send waits at most what `clock` allows.

    http.client reads through `makefile()`: the file made here reads through this object, so the
    buffered reads of a status line, a header or a body chunk each look at the deadline again."""

    def __init__(self, sock: socket.socket, clock: Clock) -> None:
        self._sock, self._clock = sock, clock
        self._timeout: float | None = sock.gettimeout()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout
        self._sock.settimeout(timeout)

    def gettimeout(self) -> float | None:
        return self._timeout

    def _arm(self) -> None:
        self._sock.settimeout(self._clock.wait(self._timeout))

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return self._sock.recv_into(*args)

    def recv(self, *args: Any) -> bytes:
        self._arm()
        return self._sock.recv(*args)

    def sendall(self, *args: Any) -> None:
        self._arm()
        self._sock.sendall(*args)
        self._clock.sent = True

    def send(self, *args: Any) -> int:
        self._arm()
        return self._sock.send(*args)

    def makefile(self, mode: str = "r", buffering: int | None = None, **_: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"a bounded socket is read in binary only, not {mode!r}")
        self._sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile counts its files
        return io.BufferedReader(socket.SocketIO(self, "rb"), buffering or io.DEFAULT_BUFFER_SIZE)  # type: ignore[arg-type]


def _connection(base: type[HTTPConnection], clock: Clock) -> type[HTTPConnection]:
    def connect(self: HTTPConnection) -> None:
        base.connect(self)
        self.sock = DeadlineSocket(self.sock, clock)

    return type(f"Deadline{base.__name__}", (base,), {"connect": connect})


def _timeouts(asked: Any, seconds: float) -> tuple[float, float]:
    """(connect, read) for urllib3: requests' float or pair, each at most `seconds`."""
    if isinstance(asked, tuple):
        connect, read = asked
    else:
        connect = read = asked if isinstance(asked, (int, float)) else None
    return (seconds if connect is None else min(connect, seconds), seconds if read is None else min(read, seconds))


class BoundedAdapter(HTTPAdapter):
    """requests' HTTP adapter with a total deadline per exchange and caps on the body as sent and decoded."""

    def __init__(self, seconds: float, max_body: int = MAX_BODY_BYTES, max_decoded: int = MAX_DECODED_BYTES, *, api: bool = True) -> None:
        self.seconds, self.max_body, self.max_decoded = seconds, max_body, max_decoded
        # api: a Google API's session, whose answers are JSON objects and Google errors. Otherwise the session
        # google-auth gets tokens through: its answers (OAuth 2.0 errors, RFC 6749 section 5.2; the metadata
        # server's plain text) pass as sent, and a bound is raised as requests' error, which google-auth
        # reports as a TransportError of the token endpoint, not of the object being read.
        self.api = api
        self.clock = Clock()  # before HTTPAdapter's __init__, which builds the pool manager
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self._bind(self.poolmanager)

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(*args, **kwargs)
        self._bind(manager)
        return manager

    def _bind(self, manager: urllib3.PoolManager) -> None:
        """The manager's pools open DeadlineSockets (a new dict: urllib3's default is shared module state)."""
        manager.pool_classes_by_scheme = {
            "http": type("DeadlineHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": _connection(HTTPConnection, self.clock)}),
            "https": type("DeadlineHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": _connection(HTTPSConnection, self.clock)}),
        }

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,  # noqa: ARG002 (always streamed: read here)
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        try:
            return self._send(request, timeout, verify, cert, proxies)
        except (BoundExceeded, BrokenAnswer) as error:
            if not self.api:
                raise requests.exceptions.ConnectionError(f"{request.url}: {error}") from None
            raise

    def _send(self, request: requests.PreparedRequest, timeout: Any, verify: Any, cert: Any, proxies: Any) -> requests.Response:
        deadline = Deadline(self.seconds)
        self.clock.deadline, self.clock.sent = deadline, False
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING  # only what `decompress` undoes under its cap
        try:
            try:
                response = super().send(request, stream=True, timeout=_timeouts(timeout, self.seconds), verify=verify, cert=cert, proxies=proxies)
            except requests.exceptions.ConnectTimeout:
                if deadline.expired():
                    raise deadline.exceeded(Stage.CONNECT) from None
                raise
            except requests.exceptions.RequestException:
                if deadline.expired():
                    # urllib3 reports a slow TLS handshake as a read timeout: before the request went out, it was one
                    connecting = Stage.TLS if (request.url or "").startswith("https:") else Stage.CONNECT
                    raise deadline.exceeded(Stage.HEADERS if self.clock.sent else connecting) from None
                raise
            try:
                body = self._body(response, deadline)
            except BaseException:
                response.close()  # mid-stream: the connection cannot be reused
                raise
        finally:
            self.clock.deadline = None
        if self.api and response.status_code >= 400:
            body = error_body(response.status_code, body)
        elif self.api and 200 <= response.status_code < 300 and not body.lstrip().startswith(b"{"):
            # json_format.Parse takes any empty iterable ([], "") for an empty message: only an object is one.
            raise BrokenAnswer(f"the answer is not the API's object (a JSON object) but {shown(body)}")
        response._content = body
        response._content_consumed = True
        return response

    def _body(self, response: requests.Response, deadline: Deadline) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise BoundExceeded(Stage.BODY, f"more than {self.max_body} bytes (the cap on a response body): its Content-Length is {declared}")
        raw = bytearray()
        try:
            while chunk := response.raw.read(CHUNK, decode_content=False):
                raw += chunk
                if len(raw) > self.max_body:
                    raise BoundExceeded(Stage.BODY, f"more than {self.max_body} bytes (the cap on a response body)")
                if deadline.expired():
                    raise deadline.exceeded(Stage.BODY)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            if deadline.expired():
                raise deadline.exceeded(Stage.BODY) from None
            raise BrokenAnswer(f"the body broke off after {len(raw)} bytes ({type(error).__name__})") from None
        body = bytes(raw)
        codings = [c.strip().lower() for c in response.headers.get("Content-Encoding", "").split(",") if c.strip()]
        try:
            for coding in reversed(codings):  # applied in order, so undone in reverse
                body = decompress(body, coding, self.max_decoded)
        except ValueError as error:
            raise BrokenAnswer(str(error)) from None
        if len(body) > self.max_decoded:
            raise BoundExceeded(Stage.DECODING, f"more than {self.max_decoded} bytes once decompressed")
        return body


def shown(body: bytes) -> str:
    """The start of a body, quoted with every control character escaped, for a one-line error."""
    text = body[:SHOWN_BYTES].decode("utf-8", "replace")
    return repr(text) + ("…" if len(body) > SHOWN_BYTES else "")


def is_google_error(payload: Any) -> bool:
    """Whether google-api-core can read `payload` as an error
    (https://cloud.google.com/apis/design/errors#http_mapping: {"error": {"code", "message", "errors", "details"}})."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error", {}), dict):
        return False
    error = payload.get("error", {})
    return (
        isinstance(error.get("message", ""), str)
        and isinstance(error.get("errors", []), list)
        and isinstance(error.get("details", []), list)
        and all(isinstance(d, dict) for d in error.get("details", []))
    )


def error_body(status: int, body: bytes) -> bytes:
    """An error answer as google-api-core reads it: the server's own when it is a Google error, else one
    that says what came instead (api-core would raise AttributeError on a list or a string)."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if is_google_error(payload):
        return body
    message = f"HTTP {status} with a body that is not a Google API error: {shown(body)}"
    return json.dumps({"error": {"code": status, "message": message}}).encode()


def is_loopback(endpoint: str) -> bool:
    """A plain-HTTP loopback endpoint: a stand-in, reached with anonymous credentials."""
    parts = urlsplit(endpoint)
    return parts.scheme == "http" and parts.hostname in LOOPBACK


def resource_name(url_or_name: str) -> str:
    """The last segment of a Compute self-link (or the name itself)."""
    return url_or_name.rstrip("/").rsplit("/", 1)[-1]


def bound(transport: Any, seconds: float) -> Any:
    """`transport` (a google-cloud REST transport) with every exchange of its session, and of the session
    its credentials refresh through, bounded by a BoundedAdapter of `seconds`."""
    session = transport._session  # the AuthorizedSession every REST call of the transport goes through
    if not isinstance(session, requests.Session):
        raise TypeError(f"{type(transport).__name__}._session is {type(session).__name__}, not a requests session: cannot bound it")
    bound_session(session, seconds)
    return transport


def bound_session(session: requests.Session, seconds: float) -> requests.Session:
    """`session` (google-auth's AuthorizedSession) with every exchange, and every one of the session its
    credentials refresh through, bounded by a BoundedAdapter of `seconds`."""
    sessions = [session]
    refresh = getattr(getattr(session, "_auth_request", None), "session", None)
    if isinstance(refresh, requests.Session):
        sessions.append(refresh)
    from google.auth.credentials import AnonymousCredentials

    if isinstance(getattr(session, "credentials", None), AnonymousCredentials):
        # A loopback stand-in: anonymous credentials cannot be refreshed, so a 401 is reported as the server sent it.
        session._refresh_status_codes = ()  # type: ignore[attr-defined]
    for each in sessions:
        adapter = BoundedAdapter(seconds, api=each is session)
        each.mount("https://", adapter)
        each.mount("http://", adapter)
    return session


def _printable(text: str, limit: int = 300) -> str:
    """`text` with control characters escaped and cut to `limit`: a server's words on one safe line."""
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return escaped[:limit] + ("…" if len(escaped) > limit else "")


def call(read: Callable[[], T], *, api: str, what: str, endpoint: str, permission: str, fix: str) -> T | None:
    """`read()`, one Google API call through a bounded transport; None when the object does not exist.

    Every other outcome that is not the object becomes one of the inspection's stops: 401 or credentials
    that cannot be had: CredentialsRefused (no IAM grant fixes it); 403: AccessDenied naming `permission`;
    an answer the client cannot parse, cut short, or over a byte cap or the deadline: Malformed naming
    `what`; no answer at all (nor its headers within the deadline): Unreachable."""
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions
    from google.protobuf import json_format

    try:
        return read()
    except api_exceptions.NotFound:
        return None
    except api_exceptions.Unauthorized as error:  # HTTP 401 (Unauthenticated is its gRPC name)
        raise CredentialsRefused(api, f"HTTP 401: {_printable(str(error.message))}", fix) from None
    except api_exceptions.Forbidden as error:
        raise AccessDenied(api, permission, _printable(str(error.message))) from None
    except api_exceptions.GoogleAPICallError as error:
        raise Unreachable(api, endpoint, f"HTTP {error.code}: {_printable(str(error.message))}") from None
    except auth_exceptions.GoogleAuthError as error:  # DefaultCredentialsError, RefreshError, a metadata server that fails
        raise CredentialsRefused(api, f"{type(error).__name__}: {_printable(str(error))}", fix) from None
    except BoundExceeded as error:
        if error.stage in (Stage.CONNECT, Stage.TLS, Stage.REQUEST, Stage.HEADERS):  # no answer yet: as a timeout always was
            raise Unreachable(api, endpoint, str(error)) from None
        raise Malformed(api, what, f"the answer's {error}") from None
    except BrokenAnswer as error:
        raise Malformed(api, what, str(error)) from None
    except (json_format.ParseError, UnicodeDecodeError, NotTheObject) as error:
        # The REST transport parses the body with json_format.Parse: not JSON, not UTF-8, a list where the
        # object belongs, a field of the wrong type all end here.
        raise Malformed(api, what, f"the answer is not the API's object: {_printable(str(error))}") from None
    except OSError as error:  # requests' failures (its exceptions are OSErrors): refused, reset, not HTTP
        raise Unreachable(api, endpoint, type(error).__name__) from None


SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)  # covers compute.readonly and container's reads


def default_credentials(seconds: float) -> Any:
    """Application Default Credentials, found through a bounded session: google.auth.default() asks the
    metadata server, or a workload identity pool's token endpoint, over HTTP before any client exists
    (https://google-auth.readthedocs.io/en/latest/reference/google.auth.html#google.auth.default)."""
    import google.auth
    from google.auth.transport.requests import Request

    session = requests.Session()
    adapter = BoundedAdapter(seconds, api=False)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    credentials, _ = google.auth.default(scopes=list(SCOPES), request=Request(session))
    return credentials
