"""Shared pieces of the `ops probe` tests: the probe table for one peer, the Job built from the prod
golden render, and probe log lines as the in-pod script prints them."""

from __future__ import annotations

import json
from typing import Any

from ops.probe.job import build_job
from ops.probe.script import LINE_PREFIX
from ops.probe.table import Expect, parse_peer, probe_table
from tests.standin.harness import golden_manifests

Json = dict[str, Any]
PEER = "10.52.1.9:8080"
TABLE = probe_table(parse_peer(PEER))
NAME = "coditect-probe-a1b2c3"


def ide_template() -> Json:
    deployment = next(m for m in golden_manifests("prod") if m["kind"] == "Deployment")
    template: Json = deployment["spec"]["template"]
    return template


def job() -> Json:
    return build_job(golden_manifests("prod"), TABLE, NAME)


def selects(selector: Json, labels: Json) -> bool:
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def line(name: str, outcome: str, detail: str = "") -> str:
    return LINE_PREFIX + json.dumps({"name": name, "outcome": outcome, "detail": detail})


def contained_log() -> str:
    return "\n".join(
        line(p.name, "blocked" if p.expect is Expect.BLOCKED else "reached", "timed out after 3s" if p.expect is Expect.BLOCKED else "resolves to 34.36.1.1")
        for p in TABLE
    )
