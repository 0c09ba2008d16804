"""The one reader of kubeconfig files, for every command that talks to a cluster (`inspect`, `probe`,
the after-up inspection hook): bounded, strict, and exact about which file and key is wrong.

Where the file comes from is what kubectl does (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/):
``--kubeconfig`` alone when given (it must exist); else every file of ``$KUBECONFIG`` (``:``-separated;
missing ones skipped; the first file to name a cluster, user or context, or to set current-context, wins);
else ``~/.kube/config``. Every file and every file it names is read under limits:

- regular files only (a FIFO or ``/dev/zero`` would block or never end), checked before and after opening;
- at most ``MAX_BYTES`` for a kubeconfig, ``MAX_CREDENTIAL_BYTES`` for a tokenFile, certificate or key;
- YAML built from the parser's events (``MAX_DEPTH`` levels, ``MAX_NODES`` values with aliases expanded),
  names indexed once, so a file of 20,000 users is read in a fraction of a second;
- only the selected context's cluster and user are judged (as kubectl does): server URL, base64 and PEM of
  ``*-data``, files, the exec plugin's settings.

An exec credential plugin (``users[].user.exec``, https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins)
is run here, not by the client (whose runner has no deadline): at most ``EXEC_DEADLINE`` seconds and
``MAX_EXEC_OUTPUT`` bytes, its ExecCredential checked. The client is then given one resolved document (a
token or a client certificate, no file and no plugin left to read). Every problem is a Unusable (exit 2)
naming the file, the key and the fix; a failed plugin is "credential plugin X failed", never an RBAC problem.

Import-light (no `kubernetes` until a Configuration is built): `ops inspect` and `ops probe` check the
kubeconfig (`check_context`) before anything slow.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from livestate.errors import Unusable, clip

if TYPE_CHECKING:
    from kubernetes.client import Configuration

MAX_BYTES = 4 << 20  # kubeconfigs of thousands of clusters are a few megabytes
MAX_CREDENTIAL_BYTES = 1 << 20  # a token, a certificate chain or a key is kilobytes
MAX_DEPTH = 64
MAX_NODES = 2_000_000  # scalars and collections, aliases counted as what they expand to
EXEC_DEADLINE = 30.0  # seconds; gke-gcloud-auth-plugin answers in one or two
MAX_EXEC_OUTPUT = 1 << 20  # an ExecCredential is a token or a certificate: kilobytes
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
GKE_PLUGIN = "gke-gcloud-auth-plugin"
GKE_CONTEXT = re.compile(r"gke_(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])_(?P<location>[a-z0-9-]+)_(?P<name>[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?)")

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_TOKEN = re.compile(r"[!-~]+")  # visible ASCII: what an HTTP header value carries unchanged
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_KINDS = {"clusters": "cluster", "users": "user", "contexts": "context"}


def _show(value: object, limit: int = 200) -> str:
    """`value` as text safe to print: control characters escaped (a value from a file or a plugin could
    hold a terminal's escape sequences), at most `limit` characters."""
    text = str(value)
    return clip(text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text), limit)


# --- where the kubeconfig is ----------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """The kubeconfig files to read, in precedence order, and what named them."""

    paths: tuple[Path, ...]
    origin: str  # "--kubeconfig", "$KUBECONFIG" or "~/.kube/config"

    def describe(self) -> str:
        return f"{self.origin} ({', '.join(_show(str(p), 200) for p in self.paths)})"


def locate(explicit: str | None, environ: Mapping[str, str] | None = None) -> Source | None:
    """The files kubectl would read; None when there is no kubeconfig at all."""
    environ = os.environ if environ is None else environ
    if explicit:
        return Source((_expanded(explicit),), "--kubeconfig")  # must exist: read() says so if not
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths = [_expanded(p) for p in dict.fromkeys(listed.split(os.pathsep)) if p]
        existing = tuple(p for p in paths if os.path.lexists(p))
        return Source(existing, "$KUBECONFIG") if existing else None
    home = Path(environ.get("HOME") or Path.home()) / ".kube" / "config"
    return Source((home,), "~/.kube/config") if os.path.lexists(home) else None


def _expanded(path: str) -> Path:
    try:
        return Path(path).expanduser()
    except RuntimeError:  # ~user of no such user
        return Path(path)


def where_looked(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if environ.get("KUBECONFIG"):
        return f"no file of $KUBECONFIG ({_show(environ['KUBECONFIG'], 200)}) exists"
    return "--kubeconfig not given, $KUBECONFIG not set and ~/.kube/config does not exist"


def credentials_command(context: str | None) -> str:
    """How to get a kubeconfig holding `context`."""
    match = GKE_CONTEXT.fullmatch(context or "")
    if match:
        return (f"gcloud container clusters get-credentials {match['name']} --location {match['location']} --project {match['project']}"
                f" (writes context {context} to ~/.kube/config)")
    if context == "coditect-local":  # ops/cluster.py writes it
        return "python -m ops cluster start, then pass --kubeconfig .engine/kubeconfig"
    return f"pass --kubeconfig FILE of a kubeconfig holding context {clip(repr(context), 100)}" if context else "pass --kubeconfig FILE"


def require_present(explicit: str | None, context: str | None, environ: Mapping[str, str] | None = None) -> Source:
    """The kubeconfig's files, or Unusable saying there is none and which command writes one."""
    source = locate(explicit, environ)
    if source is None:
        raise Unusable(f"no kubeconfig: {where_looked(environ)}. Fix: {credentials_command(context)}")
    return source


def check_context(explicit: str | None, context: str | None) -> None:
    """Refuse a kubeconfig that is missing, malformed or lacks `context` (when given), reading no more
    than that. The plugin is not run here (the client's load does that once); its command must exist."""
    source = require_present(explicit, context)
    merged = read(source)
    if context:
        resolve(merged, context, run_plugins=False)


# --- reading ----------------------------------------------------------------------------------------

def read_bounded(path: Path, what: str, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit`, or Unusable naming `what` and why."""
    shown = _show(str(path), 200)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise Unusable(f"{what}: {shown} is {_file_kind(os.stat(path).st_mode)}, not a regular file. Fix: point it at the file itself")
        # O_NONBLOCK: a file swapped for a FIFO after the stat opens at once instead of waiting for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise Unusable(f"{what}: {shown} is not a regular file. Fix: point it at the file itself")
            raw = stream.read(limit + 1)
    except FileNotFoundError:
        raise Unusable(f"{what}: {shown} does not exist") from None
    except OSError as error:
        raise Unusable(f"{what}: {shown} cannot be read: {error.strerror or error}") from None
    except ValueError:  # a NUL in the path
        raise Unusable(f"{what}: {shown} is not a path (it holds a NUL character)") from None
    if len(raw) > limit:
        raise Unusable(f"{what}: {shown} is larger than {limit} bytes, the most this reader takes. Fix: point it at the right file")
    return raw


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


_NO_KEY = object()
_SEQUENCE_OR_MAPPING = (None, "!", f"{_CORE}seq", f"{_CORE}map")
_SCALAR_TAGS = (None, "!", *(f"{_CORE}{t}" for t in ("str", "int", "bool", "null", "float")))
_PLAIN = {"": None, "~": None, "null": None, "Null": None, "NULL": None,
          "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


class _Builder:
    """A document from YAML events, under the depth and value limits, with string keys each once.
    One frame per open collection: [container, pending key, anchor, values before it]. The loop is
    written for speed: a kubeconfig of 20,000 users is some 400,000 events."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.frames: list[list[Any]] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, values it expands to)
        self.root: Any = None
        self.nodes = 0
        self.documents = 0

    def fail(self, event: yaml.Event, problem: str) -> Unusable:
        line = event.start_mark.line + 1 if event.start_mark else 0
        return Unusable(f"{self.name}, line {line}: {problem}")

    def run(self, events: Iterable[Any]) -> None:
        frames, scalar, alias, end = self.frames, yaml.ScalarEvent, yaml.AliasEvent, (yaml.SequenceEndEvent, yaml.MappingEndEvent)
        for event in events:
            kind = type(event)
            if kind is scalar:  # the common case inlined: a plain text value under a mapping key
                value = event.value if event.tag is None and event.style else _scalar(event, self)
                frame = frames[-1] if frames else None
                if frame is None or event.anchor is not None or type(frame[0]) is not dict:
                    self._add(event, value, 1)
                elif frame[1] is not _NO_KEY:
                    self.nodes += 1
                    frame[0][frame[1]] = value
                    frame[1] = _NO_KEY
                elif type(value) is str and value not in frame[0] and value != "<<":  # a key
                    self.nodes += 1
                    frame[1] = value
                else:
                    self._add(event, value, 1)  # says what is wrong with the key
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.tag not in _SEQUENCE_OR_MAPPING:
                    raise self.fail(event, f"tag {_show(str(event.tag), 60)} is not a kubeconfig value. Fix: remove it")
                container: list[Any] | dict[str, Any] = {} if kind is yaml.MappingStartEvent else []
                self._add(event, container, 1)
                if len(frames) >= MAX_DEPTH:
                    raise self.fail(event, f"more than {MAX_DEPTH} levels of nesting; a kubeconfig has five")
                frames.append([container, _NO_KEY, event.anchor, self.nodes])
            elif kind in end:
                frame = frames.pop()
                if frame[2] is not None:
                    self.anchors[frame[2]] = (frame[0], self.nodes - frame[3] + 1)
            elif kind is alias:
                if event.anchor not in self.anchors:  # libyaml's parser leaves this to a composer, which this is
                    raise self.fail(event, f"alias *{_show(event.anchor, 60)} names no anchor before it. Fix: define &{_show(event.anchor, 60)} first")
                value, size = self.anchors[event.anchor]
                self._add(event, value, size)
            elif kind is yaml.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise self.fail(event, "a second YAML document; a kubeconfig is one. Fix: remove the `---` and what follows")

    def _add(self, event: Any, value: Any, size: int) -> None:  # Any: the event classes' stubs lack `anchor`
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise self.fail(event, f"more than {MAX_NODES} values (aliases counted as what they expand to)")
        if size == 1 and type(event) is yaml.ScalarEvent and event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        if not self.frames:
            self.root = value
            return
        frame = self.frames[-1]
        container = frame[0]
        if type(container) is list:
            container.append(value)
        elif frame[1] is _NO_KEY:
            if type(value) is not str:
                raise self.fail(event, f"a mapping key must be text, found {_kind(value)}. Fix: quote it")
            if value in container:
                raise self.fail(event, f"key {_show(value, 80)!r} appears twice in one mapping. Fix: keep one")
            if value == "<<":
                raise self.fail(event, "merge keys (<<) are not read. Fix: write the keys out")
            frame[1] = value
        else:
            container[frame[1]] = value
            frame[1] = _NO_KEY


def _scalar(event: yaml.ScalarEvent, builder: _Builder) -> Any:
    """A scalar as go-yaml reads it for the fields a kubeconfig has: quoted is text; plain null, booleans
    and numbers are themselves; anything else is text. (libyaml gives a plain scalar style "".)"""
    value, tag = event.value, event.tag
    if tag is None:
        return _plain(value) if not event.style else value
    if tag not in _SCALAR_TAGS:
        raise builder.fail(event, f"tag {_show(str(tag), 60)} is not a kubeconfig value. Fix: remove it")
    return value if tag in ("!", f"{_CORE}str") else _plain(value)


def _plain(value: str) -> Any:
    if value in _PLAIN:
        return _PLAIN[value]
    first = value[:1]
    if first.isdigit() or (first and first in "-+."):
        if _INT.fullmatch(value):
            return int(value) if len(value) < 100 else value  # Python refuses ints of over 4,300 digits
        if _FLOAT.fullmatch(value):
            return float(value)
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "a mapping"}.get(type(value), "a value")


def _unique_keys(name: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) != len(pairs):
            twice = next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i]))
            raise Unusable(f"{name}: key {_show(twice, 80)!r} appears twice in one mapping. Fix: keep one")
        return built
    return build


def parse(text: str, name: str) -> Any:
    """The YAML (or JSON) document in `text`, or Unusable naming the file and line."""
    if text.lstrip().startswith("{"):  # JSON (as `kubectl config view -o json` writes): its own parser is 20 times faster
        try:
            return json.loads(text, object_pairs_hook=_unique_keys(name))
        except ValueError:
            pass  # YAML then, which says where the problem is
        except RecursionError:
            raise Unusable(f"{name}: nested too deep to be a kubeconfig") from None
    builder = _Builder(name)
    try:
        loader = _LOADER(text)
        try:
            builder.run(iter(loader.get_event, None))  # the parser's own method: no generator between it and the builder
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise Unusable(f"{name} is not valid YAML: {_show(str(error).replace(chr(10), ' '), 300)}. Fix: correct the file, or "
                         "write it again (gcloud container clusters get-credentials)") from None
    except RecursionError:
        raise Unusable(f"{name}: nested too deep to be a kubeconfig") from None
    return builder.root


@dataclass(frozen=True)
class Entry:
    """One named cluster, user or context: its body and where it was read."""

    body: dict[str, Any]
    key: str  # e.g. users[3].user
    file: Path


@dataclass(frozen=True)
class Merged:
    """Every file's entries indexed by name, the first file to name one winning (kubectl's rule)."""

    source: Source
    entries: Mapping[str, Mapping[str, Entry]]  # "clusters"/"users"/"contexts" -> name -> entry
    current_context: str | None


_LAST_READ: dict[tuple[Any, ...], Merged] = {}  # the last files parsed, by content: the preflight's parse serves the client's


def read(source: Source) -> Merged:
    """Every file of `source` read (bounded), parsed and indexed; files read before with the same bytes
    are not parsed again (the content is the key: a timestamp can miss a quick rewrite)."""
    what = f"kubeconfig (from {source.origin})"
    raws = tuple(read_bounded(path, what, MAX_BYTES) for path in source.paths)
    key = (source, raws)
    if key not in _LAST_READ:
        _LAST_READ.clear()
        _LAST_READ[key] = _parsed(source, raws, what)
    return _LAST_READ[key]


def _parsed(source: Source, raws: tuple[bytes, ...], what: str) -> Merged:
    entries: dict[str, dict[str, Entry]] = {kind: {} for kind in _KINDS}
    current: str | None = None
    for path, raw in zip(source.paths, raws, strict=True):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Unusable(f"{what} {_show(str(path), 200)}: byte offset {error.start} is not UTF-8. Fix: save it as UTF-8") from None
        document = parse(text, f"kubeconfig {_show(str(path), 200)}")
        found = _index(document, path, entries)
        current = found if current is None else current
    return Merged(source, entries, current)


def _index(document: Any, path: Path, entries: dict[str, dict[str, Entry]]) -> str | None:
    """Add the file's entries (names not seen before) to `entries`; the file's current-context."""
    shown = f"kubeconfig {_show(str(path), 200)}"
    if document is None:
        return None  # an empty file: kubectl reads it as no configuration
    if not isinstance(document, dict):
        raise Unusable(f"{shown} must be a mapping (apiVersion: v1, kind: Config, clusters, users, contexts), found {_kind(document)}. "
                         "Fix: write it again (gcloud container clusters get-credentials)")
    for key, expected in (("kind", "Config"), ("apiVersion", "v1")):
        if document.get(key) not in (None, "", expected):
            raise Unusable(f"{shown}: {key} is {clip(repr(document[key]), 80)}, not {expected!r}. Fix: this is not a kubeconfig")
    for kind, body_key in _KINDS.items():
        items = document.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            raise Unusable(f"{shown}: {kind} must be a list of {{name, {body_key}}}, found {_kind(items)}")
        seen: set[str] = set()
        for index, item in enumerate(items):
            key = f"{kind}[{index}]"
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name:
                raise Unusable(f"{shown}: {key} must be a mapping with a non-empty text `name`, found {_kind(item if name is None else name)}")
            body = item.get(body_key)
            if body is not None and not isinstance(body, dict):
                raise Unusable(f"{shown}: {key}.{body_key} must be a mapping, found {_kind(body)}")
            if name in seen:  # client-go refuses it too ("duplicate name in list")
                raise Unusable(f"{shown}: {key}: name {_show(name, 100)!r} appears twice in {kind}. Fix: keep one")
            seen.add(name)
            entries[kind].setdefault(name, Entry(body or {}, f"{key}.{body_key}", path))
    current = document.get("current-context")
    if current is not None and not isinstance(current, str):
        raise Unusable(f"{shown}: current-context must be text, found {_kind(current)}")
    return current or None


# --- judging and resolving the selected context --------------------------------------------------------

@dataclass(frozen=True)
class Resolved:
    """What the client needs for one context: a document of that context alone, every file read
    and every plugin run, so the client has nothing left that could block."""

    context: str
    server: str
    document: dict[str, Any]
    origin: str


def _where(entry: Entry, field: str) -> str:
    return f"kubeconfig {_show(str(entry.file), 200)}: {entry.key}.{field}"


def _text(entry: Entry, field: str, required: bool = False) -> str | None:
    value = entry.body.get(field)
    if value is None or value == "":
        if required:
            raise Unusable(f"{_where(entry, field)} is missing. Fix: write the kubeconfig again (gcloud container clusters get-credentials)")
        return None
    if not isinstance(value, str):
        raise Unusable(f"{_where(entry, field)} must be text, found {_kind(value)}")
    return value


def _flag(entry: Entry, field: str) -> bool:
    value = entry.body.get(field)
    if value is not None and not isinstance(value, bool):
        raise Unusable(f"{_where(entry, field)} must be true or false, found {clip(repr(value), 60)}")
    return bool(value)


def _pem(entry: Entry, field: str, raw: bytes, marker: bytes) -> bytes:
    if b"-----BEGIN " + marker not in raw and not (marker == b"" and b"-----BEGIN " in raw):
        raise Unusable(f"{_where(entry, field)} holds no PEM block (-----BEGIN {marker.decode() or '…'}). Fix: point it at the PEM data itself")
    return raw


def _data(entry: Entry, field: str, marker: bytes) -> bytes | None:
    """The decoded `*-data` field (base64 of PEM), or the file its path twin names, read bounded."""
    encoded = _text(entry, f"{field}-data")
    if encoded is not None:
        try:  # Go's base64 (the []byte of the JSON form) skips line breaks and nothing else
            raw = base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise Unusable(f"{_where(entry, field + '-data')} is not base64. Fix: `base64 -w0 FILE` of the PEM file, "
                             f"or name the file with {field} instead") from None
        return _pem(entry, f"{field}-data", raw, marker)
    path = _text(entry, field)
    if path is None:
        return None
    return _pem(entry, field, read_bounded(_relative(entry, path), _where(entry, field), MAX_CREDENTIAL_BYTES), marker)


def _relative(entry: Entry, path: str) -> Path:
    """kubectl reads a relative path against the kubeconfig's own directory (clientcmd ResolveLocalPaths)."""
    try:
        candidate = Path(path).expanduser()
    except RuntimeError:  # ~user of no such user: the path as written, which then does not exist
        candidate = Path(path)
    return candidate if candidate.is_absolute() else entry.file.parent / candidate


def _server(entry: Entry) -> str:
    server = str(_text(entry, "server", required=True))
    problem = None
    try:
        parts = urlsplit(server)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as error:
        problem = str(error)
    else:
        if parts.scheme not in ("https", "http"):
            problem = "the scheme must be https (or http for a loopback stand-in)"
        elif not parts.hostname:
            problem = "there is no host"
    if problem is None and any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in server):
        problem = "it holds white space or a control character"
    if problem:
        raise Unusable(f"{_where(entry, 'server')} {clip(repr(server), 120)} is not a server URL: {problem}. "
                         "Fix: https://HOST[:PORT], as gcloud container clusters get-credentials writes it")
    return server


def _cluster(entry: Entry) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": _server(entry)}
    ca = _data(entry, "certificate-authority", b"CERTIFICATE")
    if ca is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    if _flag(entry, "insecure-skip-tls-verify"):
        cluster["insecure-skip-tls-verify"] = True
    for field in ("tls-server-name", "proxy-url"):
        value = _text(entry, field)
        if value is not None:
            cluster[field] = value
    proxy = cluster.get("proxy-url")
    try:
        scheme = urlsplit(proxy).scheme if proxy is not None else "http"
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https", "socks5"):
        raise Unusable(f"{_where(entry, 'proxy-url')} {clip(repr(proxy), 120)} must be an http, https or socks5 URL")
    return cluster


def resolve(merged: Merged, context: str | None, run_plugins: bool = True, exec_deadline: float | None = None) -> Resolved:
    """The selected context judged and resolved, or Unusable naming the file, key and fix."""
    files = merged.source.describe()
    name = context or merged.current_context
    if not name:
        raise Unusable(f"kubeconfig {files} sets no current-context and no --context was given. Fix: pass --context NAME")
    found = merged.entries["contexts"].get(name)
    if found is None:
        known = sorted(merged.entries["contexts"])
        listed = ", ".join(_show(k, 80) for k in known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
        raise Unusable(f"kubeconfig {files} has no context {clip(repr(name), 120)} (it has {listed or 'none'}). "
                         f"Fix: {credentials_command(name)}")
    cluster_name = _text(found, "cluster", required=True)
    cluster = merged.entries["clusters"].get(str(cluster_name))
    if cluster is None:
        raise Unusable(f"{_where(found, 'cluster')} names cluster {clip(repr(cluster_name), 120)}, which no clusters[] entry has. "
                         f"Fix: {credentials_command(name)}")
    cluster_body = _cluster(cluster)
    user_name = _text(found, "user")
    user_body: dict[str, Any] = {}
    if user_name is not None:
        user = merged.entries["users"].get(user_name)
        if user is None:
            raise Unusable(f"{_where(found, 'user')} names user {clip(repr(user_name), 120)}, which no users[] entry has. "
                             f"Fix: {credentials_command(name)}")
        user_body = _user(user, cluster_body, run_plugins, EXEC_DEADLINE if exec_deadline is None else exec_deadline)
    document = {"apiVersion": "v1", "kind": "Config", "current-context": name,
                "clusters": [{"name": "cluster", "cluster": cluster_body}],
                "users": [{"name": "user", "user": user_body}],
                "contexts": [{"name": name, "context": {"cluster": "cluster", "user": "user"}}]}
    return Resolved(name, cluster_body["server"], document, files)


def _user(entry: Entry, cluster: Mapping[str, Any], run_plugins: bool, exec_deadline: float) -> dict[str, Any]:
    if entry.body.get("auth-provider") is not None:
        raise Unusable(f"{_where(entry, 'auth-provider')}: auth-provider plugins were removed from kubectl (1.26) and are not read here. "
                         "Fix: gcloud container clusters get-credentials writes the gke-gcloud-auth-plugin exec entry instead "
                         "(https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke)")
    user: dict[str, Any] = {}
    token = _text(entry, "token")
    token_file = _text(entry, "tokenFile")
    if token is None and token_file is not None:
        token = read_bounded(_relative(entry, token_file), _where(entry, "tokenFile"), MAX_CREDENTIAL_BYTES).decode("utf-8", "replace").strip()
        if not token:
            raise Unusable(f"{_where(entry, 'tokenFile')}: {_show(token_file, 200)} is empty. Fix: write the token into it")
    certificate = _data(entry, "client-certificate", b"CERTIFICATE")
    key = _data(entry, "client-key", b"")
    if (certificate is None) != (key is None):
        missing = "client-key" if key is None else "client-certificate"
        raise Unusable(f"{_where(entry, missing)} (or {missing}-data) is missing: a client certificate needs its key. Fix: add it")
    username, password = _text(entry, "username"), _text(entry, "password")
    plugin = entry.body.get("exec")
    source = "token" if entry.body.get("token") else "tokenFile"
    if token is None and certificate is None and plugin is not None:
        resolved = run_exec(entry, plugin, cluster, run_plugins, exec_deadline)
        token, source = resolved.get("token"), "exec (the plugin's status.token)"
        certificate, key = resolved.get("certificate"), resolved.get("key")
    if token is not None:
        if not _TOKEN.fullmatch(token):  # it becomes an HTTP header: a line break or a non-ASCII character cannot be sent
            raise Unusable(f"{_where(entry, source)}: the token holds white space, a control or a non-ASCII character, which an "
                             "Authorization header cannot carry. Fix: write the token alone")
        user["token"] = token
    if certificate is not None and key is not None:
        user["client-certificate-data"] = base64.b64encode(certificate).decode()
        user["client-key-data"] = base64.b64encode(key).decode()
    if username is not None and password is not None:
        user["username"], user["password"] = username, password
    return user


# --- exec credential plugins ------------------------------------------------------------------------

def _plugin_fix(command: str, args: Iterable[str], hint: str | None, installed: bool) -> str:
    base = os.path.basename(command)
    if base == GKE_PLUGIN:
        if not installed:
            return ("install it: gcloud components install gke-gcloud-auth-plugin "
                    "(https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin)")
        return "run `gcloud auth login` (the plugin uses gcloud's account), then try again"
    if hint and not installed:
        return _show(" ".join(hint.split()), 300)
    return f"run `{_show(' '.join([command, *args]), 200)}` yourself to see why" if installed else f"install {_show(base, 100)} or put it on PATH"


def _exec_settings(entry: Entry, plugin: Any) -> tuple[str, list[str], dict[str, str], str]:
    """(command, args, extra environment, apiVersion) of a valid exec entry, or Unusable."""
    where = _where(entry, "exec")
    if not isinstance(plugin, dict):
        raise Unusable(f"{where} must be a mapping (apiVersion, command, args, env), found {_kind(plugin)}")
    sub = Entry(plugin, f"{entry.key}.exec", entry.file)
    api_version = _text(sub, "apiVersion", required=True)
    if api_version not in EXEC_API_VERSIONS:
        raise Unusable(f"{where}.apiVersion {clip(repr(api_version), 80)} is not one of {', '.join(EXEC_API_VERSIONS)}. "
                         "Fix: client.authentication.k8s.io/v1")
    command = str(_text(sub, "command", required=True))
    args = plugin.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise Unusable(f"{where}.args must be a list of text")
    env: dict[str, str] = {}
    if not isinstance(plugin.get("env") or [], list):
        raise Unusable(f"{where}.env must be a list of {{name, value}}")
    for index, item in enumerate(plugin.get("env") or []):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("value"), str)):
            raise Unusable(f"{where}.env[{index}] must be a mapping of text name and text value")
        env[item["name"]] = item["value"]
    if plugin.get("interactiveMode") == "Always":
        raise Unusable(f"{where}.interactiveMode is Always, and this command has no terminal to give it. Fix: IfAvailable or Never")
    _flag(sub, "provideClusterInfo")
    return command, list(args), env, str(api_version)


def run_exec(entry: Entry, plugin: Any, cluster: Mapping[str, Any], run: bool, deadline: float) -> dict[str, Any]:
    """Run the credential plugin (unless `run` is False: then only check it can be run): its token or
    client certificate and key (PEM bytes)."""
    command, args, env, api_version = _exec_settings(entry, plugin)
    hint = plugin.get("installHint") if isinstance(plugin.get("installHint"), str) else None
    name = _show(os.path.basename(command), 100)
    path = command if os.sep in command else shutil.which(command)
    if path and os.sep in command and not os.path.isabs(command):
        path = str(entry.file.parent / command)  # clientcmd: a path with a separator is relative to the kubeconfig
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise Unusable(f"credential plugin {name} ({_where(entry, 'exec.command')}) is not installed: "
                         f"{_show(command, 200)} is not an executable file on PATH. Fix: {_plugin_fix(command, args, hint, False)}")
    if not run:
        return {}
    spec: dict[str, Any] = {"interactive": False}
    if plugin.get("provideClusterInfo"):
        spec["cluster"] = {k: v for k, v in cluster.items()}
    info = {"apiVersion": api_version, "kind": "ExecCredential", "spec": spec}
    stdout, stderr, code = _run_bounded([path, *args], {**os.environ, **env, "KUBERNETES_EXEC_INFO": json.dumps(info)}, deadline,
                                        lambda problem: Unusable(f"credential plugin {name} {problem}. Fix: {_plugin_fix(command, args, hint, True)}"))
    if code != 0:
        said = _show(" ".join(stderr.decode("utf-8", "replace").split()), 300) or "it printed nothing on stderr"
        raise Unusable(f"credential plugin {name} failed: exit status {code}: {said}; fix: {_plugin_fix(command, args, hint, True)}")
    return _exec_credential(stdout, name, api_version, _plugin_fix(command, args, hint, True))


def _run_bounded(argv: list[str], env: dict[str, str], deadline: float, fail: Callable[[str], Unusable]) -> tuple[bytes, bytes, int]:
    """(stdout, stderr, exit status) of `argv`, killed (with its process group) past `deadline` seconds
    or `MAX_EXEC_OUTPUT` bytes on either stream."""
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                   start_new_session=True)
    except (OSError, ValueError) as error:  # ValueError: a NUL in an argument, an environment name with "="
        raise fail(f"cannot be started: {_show(str(error.strerror if isinstance(error, OSError) else error), 200)}") from None
    streams = {process.stdout: bytearray(), process.stderr: bytearray()}
    end = time.monotonic() + deadline
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            selector.register(stream, selectors.EVENT_READ)  # type: ignore[arg-type]
        try:
            while selector.get_map():
                left = end - time.monotonic()
                if left <= 0:
                    raise fail(f"did not finish within {deadline:g} s and was stopped")
                for key, _ in selector.select(timeout=min(left, 0.5)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    buffer = streams[key.fileobj]  # type: ignore[index]
                    buffer += chunk
                    if len(buffer) > MAX_EXEC_OUTPUT:
                        raise fail(f"printed more than {MAX_EXEC_OUTPUT} bytes and was stopped")
            code = process.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise fail(f"closed its output but did not exit within {deadline:g} s and was stopped") from None
        finally:
            if process.poll() is None:
                _kill(process)
            for stream in streams:
                stream.close()  # type: ignore[union-attr]
    return bytes(streams[process.stdout]), bytes(streams[process.stderr]), code


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the plugin and whatever it started (gcloud runs python)
    except OSError:
        process.kill()
    process.wait()


def _exec_credential(stdout: bytes, name: str, api_version: str, fix: str) -> dict[str, Any]:
    """The ExecCredential's status: token, or PEM client certificate and key."""
    def bad(problem: str) -> Unusable:
        return Unusable(f"credential plugin {name} failed: its answer {problem}; fix: {fix}")
    try:
        answer = json.loads(stdout)
    except ValueError:
        raise bad(f"is not JSON ({clip(repr(stdout[:80]), 100)})") from None
    if not isinstance(answer, dict) or answer.get("kind") != "ExecCredential":
        raise bad("is not an ExecCredential")
    if answer.get("apiVersion") != api_version:
        raise bad(f"has apiVersion {clip(repr(answer.get('apiVersion')), 80)}, not the {api_version} the kubeconfig asks for")
    status = answer.get("status")
    if not isinstance(status, dict):
        raise bad("has no status")
    token = status.get("token")
    certificate, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if isinstance(token, str) and token:
        return {"token": token}
    if isinstance(certificate, str) and isinstance(key, str) and "-----BEGIN" in certificate and "-----BEGIN" in key:
        return {"certificate": certificate.encode(), "key": key.encode()}
    raise bad("holds neither status.token nor PEM status.clientCertificateData and clientKeyData")


# --- for the client ----------------------------------------------------------------------------------

def load(explicit: str | None, context: str | None, exec_deadline: float | None = None) -> Resolved:
    """The context resolved from the kubeconfig kubectl would read, or Unusable."""
    return resolve(read(require_present(explicit, context)), context, exec_deadline=exec_deadline)


def client_configuration(context: str | None, explicit: str | None) -> Configuration:
    """A `kubernetes` client Configuration for `context`, every credential already resolved."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    resolved = load(explicit, context)
    configuration = client.Configuration()
    try:
        config.load_kube_config_from_dict(resolved.document, context=resolved.context, client_configuration=configuration, persist_config=False)
    except (ConfigException, ValueError, OSError) as error:  # what the checks above leave: the client's own refusals
        raise Unusable(f"kubeconfig {resolved.origin}, context {_show(resolved.context, 120)}: {_show(str(error), 300)}") from None
    return configuration
