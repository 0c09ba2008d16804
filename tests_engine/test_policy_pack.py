"""The policy pack inside the real engine: `pulumi preview --policy-pack policy --policy-pack-config
policy/config/<stack>.json`, as the README and CI run it. The stack's own resources pass; the incident (an
Ingress naming a Service that does not exist), appended to the program as a raw resource, fails the preview
naming the resource and the rule."""

from __future__ import annotations

from tests_engine.conftest import ROOT, Driver
from tests_engine.test_engine import _explain

PACK = ["--policy-pack", str(ROOT / "policy"), "--policy-pack-config", str(ROOT / "policy" / "config" / "local.json")]


def test_the_stacks_own_resources_pass_the_pack_in_the_engine(drive: Driver) -> None:
    preview = drive("preview", *PACK)
    assert preview.returncode == 0, _explain(preview)
    assert "coditect-gke" in preview.stdout, "the pack did not run:\n" + _explain(preview)


def test_the_incident_ingress_fails_the_preview_naming_it(drive: Driver) -> None:
    preview = drive("preview", *PACK, "--append", str(ROOT / "tests_engine" / "programs" / "incident_ingress.py"))
    assert preview.returncode != 0, "the pack let the incident through:\n" + _explain(preview)
    out = preview.stdout + preview.stderr
    assert "[mandatory]  ingress-backends-exist" in out and "incident-ingress" in out, _explain(preview)
    assert "Service 'no-such-service'" in out
