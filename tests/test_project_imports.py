"""What each environment imports (tests/import_scan.py): the program only what `pulumi up` installs (module level,
and inside its functions but for the named exemptions), ops only the program and the ops group, everything
else only the dev requirements; and the scan can fire."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT
from tests.import_scan import (
    OUTSIDE_THE_DEPLOY_LOCK,
    third_party_imports,
    unlisted,
)
from tests.project_locks import (
    all_groups,
    installed_by_sync,
    requirement_names,
)


def test_the_program_imports_only_what_pulumi_up_installs() -> None:
    """`pulumi up` runs __main__.py after a plain `uv sync`: every module it loads imports only [project.dependencies]
    at module level, and inside its functions (the hook imports in the hook) only what that sync installs, but for
    the paths named in OUTSIDE_THE_DEPLOY_LOCK."""
    program = [ROOT / "__main__.py"]
    imports = third_party_imports(program, module_level_only=True, follow=True)
    assert set(imports) >= {"pulumi", "pulumi_kubernetes", "pydantic"}, "the scan followed the program"
    assert not unlisted(imports, requirement_names(groups=("deploy",)))
    in_functions = third_party_imports(program, module_level_only=True, follow=True, functions=True)
    assert {m.split(".")[0] for m in in_functions} >= {"kubernetes", "google"}, "the scan followed the hook's function-level imports"
    missing = unlisted(in_functions, installed_by_sync(groups=("deploy",)))
    assert set(OUTSIDE_THE_DEPLOY_LOCK) <= set(missing), f"stale exemptions: {set(OUTSIDE_THE_DEPLOY_LOCK) - set(missing)}"
    assert not {m: f for m, f in missing.items() if m not in OUTSIDE_THE_DEPLOY_LOCK}, (
        "imported inside the program's functions but not installed by a plain `uv sync` (not in the virtualenv `pulumi up` gets)"
    )


def test_everything_else_imports_only_the_dev_requirements() -> None:
    files = [ROOT / "__main__.py"] + [
        p
        for d in ("src", "livestate", "ops", "tests", "tests_engine", "engine", "bench", "policy")
        for p in sorted((ROOT / d).rglob("*.py"))
        if "node_modules" not in p.parts and ".venv" not in p.parts
    ]
    assert not unlisted(third_party_imports(files), requirement_names(groups=all_groups()))


def test_ops_imports_only_the_program_and_the_ops_group() -> None:
    """The delivery runs ops from `uv sync --group ops` (.github/workflows/stack.yml): no test or lint package."""
    files = [p for p in sorted((ROOT / "ops").rglob("*.py"))]
    assert not unlisted(third_party_imports(files), requirement_names(groups=("deploy", "ops")))  # `--group ops` keeps the default group
    assert unlisted(third_party_imports([ROOT / "tests" / "conftest.py"]), requirement_names(groups=("ops",))), (
        "the guard can fire: the tests need the tests group"
    )


def test_the_import_scan_sees_function_level_imports(tmp_path: Path) -> None:
    """The guard fires on an import inside a function, and on a namespace package's unlisted member."""
    program = tmp_path / "program.py"
    program.write_text("import pulumi\n\ndef hook() -> None:\n    from google.cloud import container_v1\n")
    assert set(third_party_imports([program], module_level_only=True)) == {"pulumi"}
    imports = third_party_imports([program], module_level_only=True, functions=True)
    assert set(unlisted({m: ROOT / "program.py" for m in imports}, requirement_names())) == {"google.cloud.container_v1"}
