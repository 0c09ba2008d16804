"""What runs inside the probe pod: Python's standard library only (`python3 -c SCRIPT TABLE TIMEOUT`),
every probe at once with its own timeout, then one machine-readable line per probe, in table order:

    coditect-probe {"name": ..., "outcome": "reached"|"blocked"|"refused"|"unresolved"|"error", "detail": ...}

"blocked" is a timeout only: Calico and Cilium (GKE Dataplane V2) drop the packets a NetworkPolicy
denies, so the client hears nothing. A refused connection got a reset from the destination: the path
is open and only the port is closed ("refused"). Any other failure (no route, unreachable) proves no
policy block ("error").
Nothing a probe receives is printed (a metadata token never reaches the log): only how far it got.
Proxies from the environment are ignored: the question is what the pod reaches directly.
"""

from __future__ import annotations

LINE_PREFIX = "coditect-probe "

SCRIPT = r"""
import concurrent.futures, json, os, socket, ssl, sys, urllib.error, urllib.request

table, timeout = json.loads(sys.argv[1]), float(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ssl.create_default_context()))


def host_of(target):
    return os.environ.get(target[1:], "") if target.startswith("$") else target


def failed(error):
    if isinstance(error, socket.gaierror):
        return "unresolved", "no such name (%s)" % (error.strerror or error.errno)
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "blocked", "timed out after %gs" % timeout
    if isinstance(error, ssl.SSLError):  # the TCP connection was made: this is no block
        return "error", "TLS failed: %s" % (error.reason or type(error).__name__)
    if isinstance(error, ConnectionRefusedError):
        return "refused", "path open: connection refused (reset), only the port is closed"
    if isinstance(error, OSError) and error.errno is not None:
        return "error", os.strerror(error.errno)
    return "error", type(error).__name__


def run(probe):
    kind, target = probe["kind"], probe["target"]
    try:
        if kind == "dns":
            found = sorted({a[4][0] for a in socket.getaddrinfo(host_of(target), None)})
            return "reached", "resolves to " + ", ".join(found[:3])
        if kind == "tcp":
            host = host_of(target)
            if not host:
                return "error", "%s is not set" % target
            socket.create_connection((host, probe["port"]), timeout=timeout).close()
            return "reached", "connected"
        request = urllib.request.Request(target, headers=probe["headers"])
        try:
            with opener.open(request, timeout=timeout) as answer:
                return "reached", "HTTP %d" % answer.status
        except urllib.error.HTTPError as answer:
            return "reached", "HTTP %d" % answer.code
        except urllib.error.URLError as error:
            reason = error.reason
            return failed(reason) if isinstance(reason, OSError) else ("error", str(reason)[:120])
    except Exception as error:
        return failed(error)


with concurrent.futures.ThreadPoolExecutor(len(table)) as pool:
    results = list(pool.map(run, table))
for probe, (outcome, detail) in zip(table, results):
    print("coditect-probe " + json.dumps({"name": probe["name"], "outcome": outcome, "detail": detail}), flush=True)
"""
