"""The component package as others get it: the wheel (`pip install` from a tag or a file), and provider/, the
Pulumi package any language adds with `pulumi package add`. One version (pyproject.toml's), one SDK pin
(uv.lock's), and a wheel that installs into an empty virtualenv and imports from anywhere.

The wheel test is slow (a build and an install: about 20 s with a warm uv cache); under CI=true a wheel that
cannot be built or installed is a failure, elsewhere (no network, cold cache) a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import coditect
from tests.conftest import ROOT

PROVIDER = ROOT / "provider"
INSTALL_TIMEOUT_SEC = 600


def _project() -> dict[str, object]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"])


def _locked(lock: Path) -> dict[str, str]:
    return {p["name"]: p["version"] for p in tomllib.loads(lock.read_text(encoding="utf-8"))["package"] if "version" in p}


def test_the_package_version_is_pyprojects() -> None:
    assert coditect.__version__ == _project()["version"]


def test_the_provider_pins_the_sdk_and_every_package_at_the_root_locks_versions() -> None:
    """The provider's environment runs what the tests ran: every package both locks hold at one version."""
    root, provider = _locked(ROOT / "uv.lock"), _locked(PROVIDER / "uv.lock")
    differ = {name: (version, root[name]) for name, version in provider.items() if name in root and root[name] != version}
    assert not differ, f"provider/uv.lock differs from uv.lock (provider, root): {differ}; fix provider/pyproject.toml and `uv lock` there"
    dependencies = tomllib.loads((PROVIDER / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert f"pulumi=={root['pulumi']}" in dependencies
    assert "coditect-gke" in provider and "pulumi-kubernetes" in provider


def test_the_provider_is_a_python_plugin_built_with_uv() -> None:
    import yaml

    plugin = yaml.safe_load((PROVIDER / "PulumiPlugin.yaml").read_text(encoding="utf-8"))
    assert plugin["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    source = tomllib.loads((PROVIDER / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["uv"]["sources"]["coditect-gke"]
    assert (PROVIDER / source["path"]).resolve() == ROOT


def _uv() -> Path:
    uv = Path(sys.executable).with_name("uv")
    if not uv.is_file():
        pytest.fail(f"{uv} not found: `make setup` installs uv into the virtualenv (requirements-pip.lock)")
    return uv


def _run(command: list[str], cwd: Path, what: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT")}
    try:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=INSTALL_TIMEOUT_SEC)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        output = f"{getattr(error, 'stdout', '') or ''}{getattr(error, 'stderr', '') or ''}"[-3000:]
        message = f"{what} failed: {' '.join(command)}\n{output}"
        if os.environ.get("CI") == "true" or (isinstance(error, subprocess.CalledProcessError) and "error: Failed to fetch" not in output):
            pytest.fail(message)
        pytest.skip(message)
    raise AssertionError("unreachable")


def _source_copy(target: Path) -> Path:
    """The files git tracks for the distribution (pyproject.toml, README, src/): the build sees what a tag holds,
    and writes its build/ and egg-info there, not in the checkout."""
    files = subprocess.run(["git", "ls-files", "-z", "pyproject.toml", "README.md", "LICENSE*", "src"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, files.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def _constraints(target: Path) -> Path:
    """uv.lock's versions as pip constraints: the wheel's dependencies resolve to what the tests ran."""
    pins = [f"{name}=={version}" for name, version in sorted(_locked(ROOT / "uv.lock").items()) if name != _project()["name"]]
    target.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return target


@pytest.mark.slow
def test_the_wheel_installs_alone_and_imports_from_anywhere(tmp_path: Path) -> None:
    uv = _uv()
    source = _source_copy(tmp_path / "source")
    dist = tmp_path / "dist"
    _run([str(uv), "build", "--wheel", "--out-dir", str(dist), str(source)], tmp_path, "uv build --wheel")
    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith(f"coditect_gke-{coditect.__version__}-py3-none-any")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"coditect", f"coditect_gke-{coditect.__version__}.dist-info"}, f"the wheel holds more than the package: {sorted(top)}"
    for required in (
        "coditect/__init__.py",
        "coditect/py.typed",
        "coditect/gke/__init__.py",
        "coditect/gke/pack.py",
        "coditect/socketio_app.py",
        "coditect/args.py",
    ):
        assert required in names, f"the wheel lacks {required}"
    assert not [n for n in names if n.split("/")[1:2] and n.split("/")[1] in ("ops", "livestate", "tests")]

    venv = tmp_path / "venv"
    _run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], tmp_path, "uv venv")
    python = venv / "bin" / "python"
    constraints = _constraints(tmp_path / "constraints.txt")
    _run([str(uv), "pip", "install", "--quiet", "--python", str(python), "--constraint", str(constraints), str(wheel)], tmp_path, "uv pip install")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import coditect, importlib.metadata as m; from coditect import SocketIoApp, SocketIoAppArgs; "
        "print(coditect.__file__); print(coditect.__version__, m.version('coditect-gke'), m.version('pulumi'))"
    )
    imported = _run([str(python), "-c", probe], elsewhere, "importing the installed wheel")
    where, versions = imported.stdout.strip().splitlines()
    assert where.startswith(str(venv)), f"coditect came from {where}, not the installed wheel"
    package_version, distribution_version, sdk = versions.split()
    assert package_version == distribution_version == coditect.__version__
    assert sdk == _locked(ROOT / "uv.lock")["pulumi"]


# The provider's SDK modules and Google's API clients cannot share a process (ops/component_schema.py says
# why): these tests run the provider in a process of their own and report through their exit status.
PROVIDER_CHECKS = """
import json
import pytest
import yaml
from pathlib import Path
from coditect.provider import TOKEN, CoditectProvider, properties_with_whole_numbers, unknown_keys
from coditect.socketio_app import SocketIoAppError, app_settings

IMAGES = {"nginx": "a.test/nginx@sha256:" + "0" * 64, "ide": "a.test/ide@sha256:" + "0" * 64}
ARGS = {"environment": "dev", "hosts": ["a.test"], "release": {"version": "1.0.0", "images": IMAGES}}


def whole_numbers():
    # google.protobuf.Struct holds only doubles: 30 from YAML arrives as 30.0.
    provider = CoditectProvider()
    spec = json.loads(provider.schema or "{}")
    inputs, types = spec["resources"][TOKEN]["inputProperties"], spec["types"]
    sent = {**ARGS, "backendConfig": {"timeoutSec": 3600.0, "healthCheck": {"timeoutSec": 5.0}}, "containment": {"internetPorts": [443.0]}, "hosts": ["a.test"]}
    got = properties_with_whole_numbers(sent, inputs, types)
    assert got["backendConfig"] == {"timeoutSec": 3600, "healthCheck": {"timeoutSec": 5}}, got
    assert type(got["backendConfig"]["timeoutSec"]) is int and type(got["containment"]["internetPorts"][0]) is int
    assert properties_with_whole_numbers({"backendConfig": {"timeoutSec": 30.5}}, inputs, types)["backendConfig"]["timeoutSec"] == 30.5
    assert got["hosts"] == ["a.test"]


def refusal():
    with pytest.raises(SocketIoAppError) as in_python:
        app_settings("socketio", {**ARGS, "backend_config": {"timeout_sec": 100000}})
    with pytest.raises(SocketIoAppError) as served:  # not the SDK's ComponentInitError, which carries the traceback
        CoditectProvider().construct("socketio", TOKEN, {**ARGS, "backendConfig": {"timeoutSec": 100000.0}})
    assert type(served.value) is SocketIoAppError and str(served.value) == str(in_python.value)
    assert str(served.value).startswith("SocketIoApp socketio: args.backendConfig.timeoutSec: ") and "\\n" not in str(served.value)


def unknown_keys_refused():
    # The SDK's mapping walks the schema's properties only: without the check these arrive as {backend_config: {}}.
    sent = {**ARGS, "backendConfig": {"timeoutSecs": 30.0, "healthCheck": {"pathh": "/x"}}, "frontDoor": ["gateway"], "bogus": 1.0}
    with pytest.raises(SocketIoAppError) as served:
        CoditectProvider().construct("socketio", TOKEN, sent)
    assert type(served.value) is SocketIoAppError  # a RunError: the CLI prints the lines, no traceback
    with pytest.raises(SocketIoAppError) as in_python:
        app_settings("socketio", {**ARGS, "backend_config": {"timeout_secs": 30.0, "health_check": {"pathh": "/x"}}, "front_door": ["gateway"], "bogus": 1.0})
    lines = str(served.value).splitlines()
    assert sorted(lines) == sorted(str(in_python.value).splitlines()), (lines, str(in_python.value))
    assert lines == [
        "SocketIoApp socketio: args.backendConfig.timeoutSecs: is not a known setting (typo?) (got 30.0). Fix: remove args.backendConfig.timeoutSecs or correct its name",
        "SocketIoApp socketio: args.backendConfig.healthCheck.pathh: is not a known setting (typo?) (got '/x'). Fix: remove args.backendConfig.healthCheck.pathh or correct its name",
        "SocketIoApp socketio: args.frontDoor: is not a known setting (typo?) (got ['gateway']). Fix: remove args.frontDoor or correct its name",
        "SocketIoApp socketio: args.bogus: is not a known setting (typo?) (got 1.0). Fix: remove args.bogus or correct its name",
    ], lines
    # snake_case is Python's spelling, not the schema's: named as sent.
    with pytest.raises(SocketIoAppError) as snake:
        CoditectProvider().construct("socketio", TOKEN, {**ARGS, "backend_config": {"timeout_sec": 30.0}})
    assert str(snake.value) == "SocketIoApp socketio: args.backend_config: is not a known setting (typo?). Fix: remove args.backend_config or correct its name"


def every_key(properties, types):
    # An input with every key the schema has, nested objects and lists of them included.
    def value(prop):
        ref = prop.get("$ref", "")
        if ref.startswith("#/types/"):
            return every_key(types[ref.removeprefix("#/types/")].get("properties", {}), types)
        if prop.get("type") == "array":
            return [value(prop.get("items", {}))]
        return 1
    return {key: value(prop) for key, prop in properties.items()}


def known_keys_pass():
    provider = CoditectProvider()
    spec = json.loads(provider.schema or "{}")
    inputs, types = spec["resources"][TOKEN]["inputProperties"], spec["types"]
    assert unknown_keys(every_key(inputs, types), inputs, types) == []
    assert unknown_keys({"backendConfig": {"timeoutSec": 1, "extra": 2}}, inputs, types) == [("backendConfig.extra", 2)]  # the walk reaches types
    for stack in ("dev", "staging", "prod", "local"):  # the repository's stacks, as another language would send them
        config = yaml.safe_load(Path(f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
        sent = {k.removeprefix("coditect:"): v for k, v in config.items() if k.startswith("coditect:") and k not in ("coditect:cluster", "coditect:inspection")}
        assert unknown_keys(sent, inputs, types) == [], stack
    example = yaml.safe_load(Path("examples/yaml/Pulumi.yaml").read_text(encoding="utf-8"))["resources"]["socketio"]["properties"]
    assert unknown_keys(example, inputs, types) == []


{check}()
print("ok")
"""


def _provider_check(check: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", PROVIDER_CHECKS.replace("{check}", check)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


def test_the_provider_passes_whole_numbers_from_other_languages_as_ints() -> None:
    _provider_check("whole_numbers")


def test_the_provider_refuses_bad_args_with_the_components_line_and_no_traceback() -> None:
    _provider_check("refusal")


def test_the_provider_refuses_every_unknown_key_as_python_does() -> None:
    _provider_check("unknown_keys_refused")


def test_the_provider_passes_every_key_the_schema_has() -> None:
    _provider_check("known_keys_pass")
