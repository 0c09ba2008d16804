"""The desired state inspect judges against: read from the manifests as the rules read them (gke.stack,
gke.manifest, the keys of gke.limits), and taken from the golden render only when a stamp proves it
current (ops/inspect/stack.py)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from coditect.gke import limits
from livestate.desired import desired_from_manifests
from livestate.errors import Unusable
from ops.inspect import stack as inspect_stack
from tests.conftest import ROOT
from tests.standin.harness import golden_desired, golden_manifests


def _service(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (service,) = [m for m in manifests if m["kind"] == "Service" and limits.BACKEND_CONFIG_ANNOTATION in m["metadata"].get("annotations", {})]
    return service


def test_the_beta_backend_config_annotation_is_read_as_gke_reads_it() -> None:
    manifests = copy.deepcopy(golden_manifests())
    annotations = _service(manifests)["metadata"]["annotations"]
    annotations[limits.BETA_BACKEND_CONFIG_ANNOTATION] = annotations.pop(limits.BACKEND_CONFIG_ANNOTATION)
    assert desired_from_manifests(manifests) == golden_desired()


def test_the_ga_annotation_wins_over_the_beta_one() -> None:
    manifests = copy.deepcopy(golden_manifests())
    _service(manifests)["metadata"]["annotations"][limits.BETA_BACKEND_CONFIG_ANNOTATION] = json.dumps({"default": "elsewhere"})
    (backend,) = [b for b in desired_from_manifests(manifests).backends if b.backend_config]
    assert backend.backend_config == "coditect-backend-config" and backend.spec


def test_a_service_of_another_namespace_is_not_the_ingress_backend() -> None:
    """GKE resolves an Ingress's backends in the Ingress's own namespace."""
    manifests = copy.deepcopy(golden_manifests())
    _service(manifests)["metadata"]["namespace"] = "elsewhere"
    assert not [b for b in desired_from_manifests(manifests).backends if b.backend_config]


def test_manifests_without_one_ingress_are_unusable() -> None:
    with pytest.raises(Unusable, match="declares 0 Ingresses"):
        desired_from_manifests([m for m in golden_manifests() if m["kind"] != "Ingress"])


# --- the golden render, when current --------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project: stamps and edits stay out of the checkout."""
    root = tmp_path_factory.mktemp("project")
    for name in (*inspect_stack.SOURCE_FILES, "Pulumi.prod.yaml"):
        shutil.copy2(ROOT / name, root / name)
    for directory in (*inspect_stack.SOURCE_DIRECTORIES, "rendered", "schemas"):
        shutil.copytree(ROOT / directory, root / directory, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv"))
    return root


def test_a_stale_or_missing_stamp_renders_and_a_proven_golden_is_read(project: Path) -> None:
    stamp = project / str(inspect_stack.STAMP).format(stack="prod")
    stamp.unlink(missing_ok=True)
    first = inspect_stack.load("prod", project)
    assert first[2] == "rendered" and stamp.exists(), "the render equals the golden file: the stamp records it"
    second = inspect_stack.load("prod", project)
    assert second[2] == "golden" and second[:2] == first[:2]


def test_a_changed_input_is_rendered_again(project: Path) -> None:
    inspect_stack.load("prod", project)
    stack_file = project / "Pulumi.prod.yaml"
    original = stack_file.read_text()
    try:
        stack_file.write_text(original + "\n# an edit\n")
        assert inspect_stack.load("prod", project)[2] == "golden", "a comment does not change the configuration the program receives"
        stack_file.write_text(original.replace("kubeletReadOnlyPort: false", "kubeletReadOnlyPort: true"))
        assert inspect_stack.load("prod", project)[2] == "rendered", "a changed configuration value is rendered"
    finally:
        stack_file.write_text(original)
    inspect_stack.load("prod", project)
    source = project / "src" / "coditect" / "service.py"
    kept = source.read_text()
    try:
        source.write_text(kept + "\n# an edit\n")
        assert inspect_stack.load("prod", project)[2] == "rendered", "a changed program source is not trusted to render the same"
    finally:
        source.write_text(kept)


def test_a_golden_file_that_differs_from_the_render_is_never_read(project: Path) -> None:
    golden = project / "rendered" / "prod" / "kubernetes.yaml"
    kept = golden.read_bytes()
    try:
        golden.write_bytes(kept.replace(b"timeoutSec: 86400", b"timeoutSec: 30", 1))
        loaded = [inspect_stack.load("prod", project) for _ in range(2)]
        assert [source for *_, source in loaded] == ["rendered", "rendered"]
        assert loaded[0][0] == golden_desired(), "the desired state is the program's, not the edited golden file's"
    finally:
        golden.write_bytes(kept)


def test_a_torn_stamp_renders_again(project: Path) -> None:
    inspect_stack.load("prod", project)
    (project / str(inspect_stack.STAMP).format(stack="prod")).write_text("{not json")
    assert inspect_stack.load("prod", project)[2] == "rendered"
