"""The after-up inspection under the real engine. The engine runs a resource's after-create hook before it
reports the step done (pulumi/pulumi pkg/resource/deploy/step.go), so the hook sits on the stack's last
object: when it runs, everything it inspects has been applied. There is no GKE controller here, so the
inspection cannot prove translation: `warn` mode must warn and finish the `up`, `fail` mode must fail it with
the hook's message, and in both every object it inspects already exists."""

from __future__ import annotations

from pathlib import Path

import kubernetes
import pytest
import yaml

from ops.cluster import CONTEXT
from tests_engine.conftest import Driver
from tests_engine.test_engine import _explain, _golden, _live


def _inspection(root: Path, mode: str) -> None:
    path = root / "Pulumi.local.yaml"
    config = yaml.safe_load(path.read_text())
    config["config"]["coditect:inspection"] = {"afterUp": mode, "deadlineSec": 30, "intervalSec": 5}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.mark.parametrize("mode", ["warn", "fail"])
def test_the_hook_runs_after_what_it_inspects_and_reports_per_mode(project_copy: Driver, cluster: Path, mode: str) -> None:
    _inspection(project_copy.root, mode)
    try:
        up = project_copy("up")
        out = up.stdout + up.stderr
        assert "inspect-after-apply" in out or "Run `python -m ops inspect local`" in out, _explain(up)
        if mode == "warn":
            assert up.returncode == 0, _explain(up)
            assert "warning" in out.lower()
        else:
            assert up.returncode != 0, "fail mode let an unproven BackendConfig pass:\n" + _explain(up)
        client = kubernetes.config.new_client_from_config(str(cluster), context=CONTEXT)
        inspected = [m for m in _golden() if m["kind"] in ("BackendConfig", "Service", "Ingress")]
        missing = [m["metadata"]["name"] for m in inspected if _live(client, m) is None]
        assert not missing, f"the hook ran before {missing} existed"
    finally:
        down = project_copy("destroy")
        assert down.returncode == 0, _explain(down)
