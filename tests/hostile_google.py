"""Google Cloud answers that break the API's promise, for `ops inspect`'s Compute and Container reads: error bodies
of the wrong shape, cut-short and compressed answers (GCP_BEHAVIOURS), served by tests/hostile_wire.py."""

from __future__ import annotations

import json
import zlib

from tests.hostile_http import compressed, corrupt_gzip, endless_body, hang, huge_headers, not_http, trickle_body, trickle_headers, unknown_coding
from tests.hostile_wire import Behaviour, Connection, Request

# --- Google Cloud answers that break the API's promise (ops inspect's Compute and Container reads) ---


def google_answer(status: str, body: bytes | str, content_type: str = "application/json; charset=UTF-8") -> Behaviour:
    """Every request answered with `status` and `body` as given."""

    def answer(conn: Connection, request: Request) -> bool:
        return conn.respond(body, status, {"Content-Type": content_type})

    return answer


def cut_short(conn: Connection, request: Request) -> bool:
    """A Content-Length promising 1000 bytes, 20 sent, then the connection closed."""
    conn.send(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name": "k8s1-abc",')
    return False


def gzip_answer(body: bytes) -> Behaviour:
    """A correct answer, gzip-encoded as Google's front ends send it to clients that accept gzip."""

    def answer(conn: Connection, request: Request) -> bool:
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return conn.respond(compressor.compress(body) + compressor.flush(), headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})

    return answer


GOOGLE_ERROR_401 = json.dumps(
    {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "Request had invalid authentication credentials. Expected OAuth 2 access token."}}
)
GOOGLE_ERROR_403 = json.dumps(
    {
        "error": {
            "code": 403,
            "message": "Required 'compute.backendServices.get' permission for 'projects/p/global/backendServices/x'",
            "errors": [{"message": "Required 'compute.backendServices.get' permission", "domain": "global", "reason": "forbidden"}],
        }
    }
)
# name -> behaviour: the answers of a server that is not the API it claims to be, at the HTTP level and in the JSON
GCP_BEHAVIOURS: dict[str, Behaviour] = {
    "hang": hang,
    "trickle_headers": trickle_headers,
    "trickle_body": trickle_body,
    "endless_body": endless_body,
    "huge_headers": huge_headers,
    "not_http": not_http,
    "gzip_bomb": compressed("gzip"),
    "deflate_bomb": compressed("deflate"),
    "corrupt_gzip": corrupt_gzip,
    "unknown_coding": unknown_coding,
    "cut_short": cut_short,
    "truncated_json": google_answer("200 OK", '{"name": "k8s1-abc", "backends": [{"group": "https://'),
    "html_200": google_answer("200 OK", "<!DOCTYPE html><html><title>Sign in</title><body>captive portal</body></html>", "text/html"),
    "list_for_object": google_answer("200 OK", '[{"name": "k8s1-abc"}]'),
    "wrong_type": google_answer("200 OK", '{"name": "k8s1-abc", "timeoutSec": "thirty", "currentNodeCount": "three", "backends": "all"}'),
    "not_utf8": google_answer("200 OK", b'{"name": "\xff\xfe"}'),
    "deep_nesting": google_answer("200 OK", '{"backends": ' + "[" * 5000 + "]" * 5000 + "}"),
    "escape_sequences": google_answer("200 OK", r'{"name": "\u001b[2J", "timeoutSec": "\u001b[2J\u001b[32mPASS", "selfLink": 5}'),
    "unauthenticated_401": google_answer("401 Unauthorized", GOOGLE_ERROR_401),
    "forbidden_403": google_answer("403 Forbidden", GOOGLE_ERROR_403),
    "forbidden_403_list_body": google_answer("403 Forbidden", "[1, 2]"),
    "error_500_string_error": google_answer("500 Internal Server Error", '{"error": "boom\u001b[2J"}'),
    "error_502_html": google_answer("502 Bad Gateway", "<html><body>\x1b[2J upstream</body></html>", "text/html"),
}
