"""Shared by the hostile Google Cloud tests (tests/test_gcp_hostile*.py): the deadline and slack they measure
against, what each hostile behaviour of tests/hostile_google.py must end as, and answers padded to a size."""

from __future__ import annotations

import json

from livestate.bounds import MAX_BODY_BYTES, MAX_DECODED_BYTES
from livestate.container import ClusterRef
from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable
from tests.hostile_server import bomb
from tests.standin.world import PROJECT, fixture

TIMEOUT = 0.5
SLACK_S = 2.0  # a loaded 2-core machine: thread start-up, the first import of a client, a slow close
CLUSTER = ClusterRef(PROJECT, "us-central1", "coditect-prod")
# behaviour -> (what the reader raises, a phrase its message holds)
EXPECTED: dict[str, tuple[type[Exception], str]] = {
    "hang": (Unreachable, f"response headers: not done within the {TIMEOUT:g} s deadline"),
    "trickle_headers": (Unreachable, f"response headers: not done within the {TIMEOUT:g} s deadline"),
    "trickle_body": (Malformed, f"response body: not done within the {TIMEOUT:g} s deadline"),
    "endless_body": (Malformed, f"more than {MAX_BODY_BYTES} bytes (the cap on a response body)"),
    "huge_headers": (Unreachable, "ConnectionError"),
    "not_http": (Unreachable, "ConnectionError"),
    "gzip_bomb": (Malformed, f"more than {MAX_DECODED_BYTES} bytes once decompressed"),
    "deflate_bomb": (Malformed, f"more than {MAX_DECODED_BYTES} bytes once decompressed"),
    "corrupt_gzip": (Malformed, "a corrupt gzip body"),
    "unknown_coding": (Malformed, "a body in 'br', which was not asked for"),
    "cut_short": (Malformed, "the body broke off after 20 bytes"),
    "truncated_json": (Malformed, "not the API's object: Failed to load JSON"),
    "html_200": (Malformed, "not the API's object (a JSON object) but '<!DOCTYPE html>"),
    "list_for_object": (Malformed, "not the API's object"),
    "wrong_type": (Malformed, "not the API's object: Failed to parse"),
    "not_utf8": (Malformed, "not the API's object: 'utf-8' codec can't decode"),
    "deep_nesting": (Malformed, "not the API's object"),
    "escape_sequences": (Malformed, "not the API's object"),
    "unauthenticated_401": (CredentialsRefused, "HTTP 401"),
    "forbidden_403": (AccessDenied, "Required 'compute.backendServices.get' permission"),
    "forbidden_403_list_body": (AccessDenied, "HTTP 403 with a body that is not a Google API error: '[1, 2]'"),
    "error_500_string_error": (Unreachable, "HTTP 500 with a body that is not a Google API error"),
    "error_502_html": (Unreachable, "HTTP 502 with a body that is not a Google API error"),
}


def warm_bombs() -> None:
    """The bombs compressed before any test starts its clock (64 MiB at level 9 takes the server a second)."""
    bomb("gzip")
    bomb("deflate")


def backend_service_of(size: int) -> bytes:
    """The healthy backend service, padded with a description to `size` bytes of JSON."""
    body = fixture("compute_backend_service") | {"description": ""}
    empty = len(json.dumps(body).encode())
    return json.dumps(body | {"description": "x" * (size - empty)}).encode()
