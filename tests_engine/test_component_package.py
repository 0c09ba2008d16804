"""The component package from another language under the real CLI: `pulumi package get-schema provider` runs the
provider (a Python source plugin, through engine/language_host.py) and serves the schema the SDK infers in
process; the YAML example (examples/yaml, the `packages:` entry `pulumi package add` writes) previews and deploys
SocketIoApp on the loopback cluster; a bad arg fails the preview with the component's own one-line refusal.

The provider runs from a copy laid out as a git tag is (the package's pyproject.toml, README and src/, with
provider/ inside), its virtualenv built by the CLI's InstallDependencies (`uv sync --locked` of provider/uv.lock).
On this cluster, without nodes or a load balancer, tests_engine/programs/provider_skip_await.py adds drive.py's
skipAwait transform around the unchanged provider/__main__.py. pulumi-language-yaml 1.25.0 (the newest the Go
module proxy serves) lacks the Link call CLI 3.274.1's `pulumi package add` makes after generating the SDK
("linking package: method Link not implemented"), so the test writes the `packages:` entry itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.cluster import CONTEXT
from ops.component_schema import schema
from tests_engine.conftest import BIN, ROOT
from tests_engine.test_engine import _client, _explain, _live

CLI_TIMEOUT_SEC = 240
NAMESPACE = "socketio-yaml"  # examples/yaml's args.namespace
LANGUAGE_YAML = "pulumi-language-yaml"


@dataclass(frozen=True)
class Cli:
    home: Path
    env: dict[str, str]

    def __call__(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "pulumi"), *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=CLI_TIMEOUT_SEC)


def _package_copy(target: Path) -> Path:
    """The package as a tag of this repository holds it, and provider/ in it; returns the provider directory."""
    files = subprocess.run(["git", "ls-files", "-z", "pyproject.toml", "README.md", "src", "provider"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, files.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    provider = target / "provider"
    (provider / "__main__.py").rename(provider / "provider_main.py")
    shutil.copy2(ROOT / "tests_engine" / "programs" / "provider_skip_await.py", provider / "__main__.py")
    return provider


@pytest.fixture(scope="module")
def cli(engine: Path, cluster: Path, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    if not (BIN / LANGUAGE_YAML).exists():
        message = f"engine part not built: {LANGUAGE_YAML} (run `engine/build.sh language-yaml`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("component")
    (home / "state").mkdir()
    env = {
        **os.environ,
        "PATH": os.pathsep.join((str(BIN), str(ROOT / "engine"), os.environ.get("PATH", ""))),
        # The stand-in host runs here (grpc, pulumi; uv beside it for InstallDependencies).
        "CODITECT_HOST_PYTHON": sys.executable,
        "CODITECT_ROOT": str(ROOT),
        "PULUMI_HOME": str(home / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{home / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
        "KUBECONFIG": str(cluster),
    }
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT"):
        env.pop(name, None)
    return Cli(home, env)


@pytest.fixture(scope="module")
def provider(cli: Cli) -> Path:
    return _package_copy(cli.home / "package")


def _program(cli: Cli, provider: Path, name: str, edit: Any = None) -> Path:
    """examples/yaml in a scratch directory, its package entry pointing at the provider copy, and a stack named
    `name` (one backend holds every program's stacks) on the cluster."""
    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))
    program["packages"]["coditect"] = str(provider)
    if edit:
        edit(program)
    where = cli.home / name
    where.mkdir()
    (where / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False), encoding="utf-8")
    (where / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": {"kubernetes:context": CONTEXT}}), encoding="utf-8")
    created = cli("stack", "init", name, "--non-interactive", cwd=where)
    assert created.returncode == 0, _explain(created)
    return where


def as_the_cli_prints(spec: Any) -> Any:
    """`spec` as the CLI re-serializes a schema it read into its PackageSpec (pulumi/pulumi
    pkg/codegen/schema/schema.go): array items are a TypeSpec, which has no description; an empty
    `dependencies` is omitted; `config` is always there."""
    if isinstance(spec, list):
        return [as_the_cli_prints(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    printed = {key: as_the_cli_prints(value) for key, value in spec.items()}
    if isinstance(printed.get("items"), dict):
        printed["items"].pop("description", None)
    return printed


def test_get_schema_runs_the_provider_and_serves_the_inferred_schema(cli: Cli, provider: Path) -> None:
    got = cli("package", "get-schema", str(provider), cwd=cli.home)  # absolute: `a/b` would name a registry package
    assert got.returncode == 0, _explain(got)
    inferred = schema()
    assert inferred == json.loads((ROOT / "provider" / "schema.json").read_text(encoding="utf-8"))
    expected = as_the_cli_prints(inferred)
    if not expected.get("dependencies"):
        expected.pop("dependencies", None)
    expected.setdefault("config", {})
    assert json.loads(got.stdout) == expected
    assert (provider / ".venv" / "bin" / "python").is_file(), "InstallDependencies did not build the provider's virtualenv"


@pytest.fixture(scope="module")
def deployed(cli: Cli, provider: Path, cluster: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    where = _program(cli, provider, "deployed")
    preview = cli("preview", "--non-interactive", "--stack", "deployed", cwd=where)
    assert preview.returncode == 0, _explain(preview)
    assert "coditect:index:SocketIoApp" in preview.stdout, _explain(preview)
    up = cli("up", "--yes", "--non-interactive", "--skip-preview", "--stack", "deployed", cwd=where)
    assert up.returncode == 0, _explain(up)
    outputs = cli("stack", "output", "--json", "--stack", "deployed", cwd=where)
    assert outputs.returncode == 0, _explain(outputs)
    yield where, json.loads(outputs.stdout)
    cli("destroy", "--yes", "--non-interactive", "--stack", "deployed", cwd=where)


def test_the_yaml_program_deploys_the_app_and_exports_its_outputs(deployed: tuple[Path, dict[str, Any]], cluster: Path) -> None:
    _, outputs = deployed
    client = _client(cluster)
    assert outputs["namespace"] == NAMESPACE
    expected: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coditect-combined", "namespace": NAMESPACE}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": outputs["serviceName"], "namespace": NAMESPACE}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": outputs["ingressName"], "namespace": NAMESPACE}},
        {"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig", "metadata": {"name": outputs["backendConfigName"], "namespace": NAMESPACE}},
    ]
    missing = [f"{m['kind']} {m['metadata']['name']}" for m in expected if _live(client, m) is None]
    assert not missing, f"SocketIoApp from YAML declared these, the API server does not hold them: {missing}"
    namespace = _live(client, expected[0])
    assert namespace is not None and namespace["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted"


def test_a_bad_arg_fails_the_preview_with_the_components_refusal(cli: Cli, provider: Path) -> None:
    from coditect.socketio_app import SocketIoAppError, app_settings

    def too_long(program: dict[str, Any]) -> None:
        program["resources"]["socketio"]["properties"]["backendConfig"] = {"timeoutSec": 100000}

    where = _program(cli, provider, "refused")
    properties = yaml.safe_load((where / "Pulumi.yaml").read_text(encoding="utf-8"))["resources"]["socketio"]["properties"]
    with pytest.raises(SocketIoAppError) as refused:  # the same args, in Python
        app_settings("socketio", {**properties, "backend_config": {"timeout_sec": 100000}})
    (line,) = str(refused.value).splitlines()
    program = yaml.safe_load((where / "Pulumi.yaml").read_text(encoding="utf-8"))
    too_long(program)
    (where / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False), encoding="utf-8")
    preview = cli("preview", "--non-interactive", "--stack", "refused", cwd=where)
    assert preview.returncode != 0, "the component accepted backendConfig.timeoutSec 100000:\n" + _explain(preview)
    out = preview.stdout + preview.stderr
    assert line in out, f"expected the refusal {line!r}:\n" + _explain(preview)
    assert "Traceback" not in out, "the refusal came with a traceback:\n" + _explain(preview)
