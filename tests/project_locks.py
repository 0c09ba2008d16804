"""The project's locked dependencies as the tests read them: pyproject.toml's requirements and groups, uv.lock's
packages and versions, what a plain `uv sync` installs, and the locked uv beside the interpreter. Used by
tests/test_project_config.py, test_project_imports.py, test_deploy_venv.py and test_policy_pack_standalone.py."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

# Where first-party modules live: src/ (the component package and its rule engine), the project root, and
# policy/ for the pack (whose `gke` is a link to src/coditect/gke).
SOURCE_ROOTS = (ROOT / "src", ROOT, ROOT / "policy")
PACK = ROOT / "policy"
# Sources a locked package may come from: PyPI (with hashes), or the project itself (editable).
REGISTRY = "https://pypi.org/simple"


# pyproject.toml and uv.lock.


def pyproject(project: Path = ROOT) -> dict[str, Any]:
    with (project / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def requirements(project: Path = ROOT, groups: tuple[str, ...] = ()) -> list[Requirement]:
    """[project.dependencies] of a pyproject.toml and the named dependency groups."""
    document = pyproject(project)
    lines = list(document["project"].get("dependencies", []))
    for group in groups:
        lines += document["dependency-groups"][group]
    return [Requirement(line) for line in lines]


def all_groups(project: Path = ROOT) -> tuple[str, ...]:
    return tuple(pyproject(project).get("dependency-groups", {}))


def requirement_names(project: Path = ROOT, groups: tuple[str, ...] = ()) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements(project, groups)}


def uv_lock(project: Path = ROOT) -> dict[str, dict[str, Any]]:
    """uv.lock's packages by name (this lock holds one version of each)."""
    with (project / "uv.lock").open("rb") as file:
        packages = tomllib.load(file)["package"]
    by_name: dict[str, dict[str, Any]] = {canonicalize_name(p["name"]): p for p in packages}
    assert len(by_name) == len(packages), f"{project / 'uv.lock'}: a package is locked at two versions; extend uv_lock()"
    return by_name


def locked_versions(project: Path = ROOT) -> dict[str, str]:
    return {name: package["version"] for name, package in uv_lock(project).items()}


def installed_by_sync(project: Path = ROOT, groups: tuple[str, ...] = ()) -> set[str]:
    """What `uv sync` installs here from uv.lock: the project's dependencies and the named groups, transitively,
    with extras and with every environment marker evaluated for this interpreter."""
    packages = uv_lock(project)
    [root] = [p for p in packages.values() if p["source"] in ({"virtual": "."}, {"editable": "."})]
    pending = list(root.get("dependencies", [])) + [d for g in groups for d in root.get("dev-dependencies", {}).get(g, [])]
    found: set[str] = set()
    while pending:
        dependency = pending.pop()
        if "marker" in dependency and not Marker(dependency["marker"]).evaluate():
            continue
        name = canonicalize_name(dependency["name"])
        package = packages[name]
        extras = [d for extra in dependency.get("extra", []) for d in package.get("optional-dependencies", {}).get(extra, [])]
        if name in found and not extras:
            continue
        found.add(name)
        pending += package.get("dependencies", []) + extras
    return found


def uv() -> Path:
    beside = Path(sys.executable).with_name("uv")
    assert beside.is_file(), f"{beside}: not installed; run `make setup` (the lint group installs uv)"
    return beside
