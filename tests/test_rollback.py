"""Release history and rollback, in a temporary git repository holding several releases of prod."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.__main__ import main
from ops.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, EXIT_WRITE, Refused
from ops.history import read_history
from ops.rollback import rollback
from tests.conftest import copy_project

NGINX = "us-docker.pkg.dev/coditect/app/nginx"
IDE = "us-docker.pkg.dev/coditect/app/theia"
STACK_FILE = "Pulumi.prod.yaml"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Release Bot",
    "GIT_AUTHOR_EMAIL": "release@example.test",
    "GIT_COMMITTER_NAME": "Release Bot",
    "GIT_COMMITTER_EMAIL": "release@example.test",
}


def digest(seed: str) -> str:
    return "sha256:" + (seed * 64)[:64]


def git(root: Path, *arguments: str, date: str | None = None) -> str:
    env = {**os.environ, **GIT_IDENTITY, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", "-C", str(root), *arguments], check=True, capture_output=True, text=True, env=env).stdout


def release(root: Path) -> dict[str, Any]:
    release: dict[str, Any] = yaml.safe_load((root / STACK_FILE).read_text())["config"]["coditect:release"]
    return release


def set_release(root: Path, version: str, nginx: str, ide: str) -> None:
    """Replace the release's values in the stack file's text, as a release pipeline would."""
    now = release(root)
    text = (root / STACK_FILE).read_text()
    text = text.replace(f"version: {now['version']}\n", f"version: {version}\n", 1)
    text = text.replace(now["images"]["nginx"], nginx, 1).replace(now["images"]["ide"], ide, 1)
    (root / STACK_FILE).write_text(text)


def commit(root: Path, message: str, day: int) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date=f"2026-03-{day:02d}T12:00:00+00:00")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """prod's history: 1.4.2 (as committed), 1.4.3-rc (tag images), 1.5.0, a config-only change, 1.6.0."""
    root = copy_project(tmp_path)
    git(root, "init", "-q", "-b", "main")
    commit(root, "prod 1.4.2", 1)
    set_release(root, "1.4.3-rc", f"{NGINX}:1.4.3-rc", f"{IDE}:1.4.3-rc")
    commit(root, "prod 1.4.3-rc (tags)", 2)
    set_release(root, "1.5.0", f"{NGINX}@{digest('5a')}", f"{IDE}@{digest('5b')}")
    commit(root, "prod 1.5.0", 3)
    stack = root / STACK_FILE
    stack.write_text(stack.read_text().replace("    timeoutSec: 86400\n", "    timeoutSec: 86000\n", 1))
    commit(root, "prod: a configuration change", 4)
    set_release(root, "1.6.0", f"{NGINX}@{digest('6a')}", f"{IDE}@{digest('6b')}")
    commit(root, "prod 1.6.0", 5)
    return root


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts}


def cli(root: Path, *arguments: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--project", str(root), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(root: Path, *arguments: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The refusal a command writes on stderr (EXIT_FAILED); its stdout stays empty, so no pipeline or --json reader sees it."""
    code, out, err = cli(root, *arguments, capsys=capsys)
    assert code == EXIT_FAILED and out == "" and err.startswith("refused: "), (code, out, err)
    return err


def test_history_lists_every_release_newest_first_with_the_current_marked(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = read_history("prod", repo)
    assert [r.version for r in found.releases] == ["1.6.0", "1.5.0", "1.4.3-rc", "1.4.2"]
    assert [r.current for r in found.releases] == [True, False, False, False]
    # The configuration-only commit is no release: 1.5.0 is dated by the commit that brought it in.
    assert found.releases[1].subject == "prod 1.5.0" and found.releases[1].date.startswith("2026-03-03")
    assert found.releases[0].images == {"nginx": f"{NGINX}@{digest('6a')}", "ide": f"{IDE}@{digest('6b')}"}
    assert found.releases[0].author == "Release Bot <release@example.test>"
    assert not found.releases[2].pinned and found.releases[1].pinned

    code, out, err = cli(repo, "history", "prod", capsys=capsys)
    assert code == EXIT_OK and err == ""
    lines = out.splitlines()
    assert lines[1].startswith("* 1.6.0  ") and f"nginx: {NGINX}@{digest('6a')}" in out
    assert "1.4.3-rc" in out and "(not pinned by digest: cannot be rolled back to)" in out
    code, out, err = cli(repo, "history", "prod", "--json", capsys=capsys)
    listed = json.loads(out)
    assert code == EXIT_OK and err == "" and [r["version"] for r in listed["releases"]] == ["1.6.0", "1.5.0", "1.4.3-rc", "1.4.2"]
    assert listed["releases"][0]["current"] and len(listed["releases"][0]["commit"]) == 40


def test_rollback_goes_to_the_release_before_the_current(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (repo / STACK_FILE).read_text()
    code, out, err = cli(repo, "rollback", "prod", capsys=capsys)
    assert code == EXIT_OK and err == "", err
    after = (repo / STACK_FILE).read_text()
    assert release(repo) == {"version": "1.5.0", "images": {"nginx": f"{NGINX}@{digest('5a')}", "ide": f"{IDE}@{digest('5b')}"}}
    # Only the release's three scalars changed; the configuration change made after 1.5.0 stays.
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 3 and all("1.6.0" in a or digest("6a") in a or digest("6b") in a for a, _ in changed)
    assert "timeoutSec: 86000" in after
    assert "app.kubernetes.io/version: 1.5.0" in (repo / "rendered" / "prod" / "kubernetes.yaml").read_text()
    assert "Roll prod back to 1.5.0" in out and "--- Pulumi.prod.yaml (before)" in out and "--- rendered/prod/kubernetes.yaml (before)" in out
    assert "pulumi up -s prod" in out and "python -m ops inspect prod --wait 900" in out
    assert "python -m ops verify https://coditect.ai/theia/socket.io/ --hold 40" in out

    commit(repo, "Roll prod back to 1.5.0", 6)
    found = read_history("prod", repo)
    assert [(r.version, r.current) for r in found.releases][:2] == [("1.5.0", True), ("1.6.0", False)]


def test_rollback_to_a_named_version_and_dry_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = files(repo)
    code, out, _ = cli(repo, "rollback", "prod", "--to", "1.4.2", "--dry-run", capsys=capsys)
    assert code == EXIT_OK and "--dry-run: nothing written." in out and "+    version: 1.4.2" in out
    assert files(repo) == before
    assert rollback("prod", io.StringIO(), to="1.4.2", root=repo) == EXIT_OK
    assert release(repo)["version"] == "1.4.2"


def test_a_version_the_history_does_not_hold_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = files(repo)
    err = refused(repo, "rollback", "prod", "--to", "1.3.0", capsys=capsys)
    assert "has never held release '1.3.0'" in err and "1.6.0, 1.5.0, 1.4.3-rc, 1.4.2" in err
    assert files(repo) == before


def test_a_release_not_pinned_by_digest_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = files(repo)
    err = refused(repo, "rollback", "prod", "--to", "1.4.3-rc", capsys=capsys)
    assert "is not pinned by digest" in err and f"nginx={NGINX}:1.4.3-rc" in err
    assert files(repo) == before


def test_a_dirty_stack_file_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = repo / STACK_FILE
    stack.write_text(stack.read_text() + "# a local edit\n")
    before = files(repo)
    err = refused(repo, "rollback", "prod", capsys=capsys)
    assert "Pulumi.prod.yaml has uncommitted changes" in err
    assert files(repo) == before


def test_the_oldest_release_has_nothing_before_it_and_the_current_one_is_a_no_op(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    git(root, "init", "-q", "-b", "main")
    commit(root, "prod 1.4.2", 1)
    out = io.StringIO()
    with pytest.raises(Refused, match=r"1\.4\.2.* is the oldest release"):  # the function leaves the refusal to the error boundary
        rollback("prod", out, root=root)
    assert out.getvalue() == ""
    out = io.StringIO()
    assert rollback("prod", out, to="1.4.2", root=root) == EXIT_OK and "already holds release 1.4.2" in out.getvalue()


def test_an_interrupted_rollback_leaves_the_old_files(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    before = files(repo)
    real_replace = os.replace
    calls: list[str] = []

    def interrupted(source: Any, destination: Any) -> None:
        calls.append(str(destination))
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(source, destination)

    monkeypatch.setattr("ops.atomic.os.replace", interrupted)
    code, _, err = cli(repo, "rollback", "prod", capsys=capsys)
    monkeypatch.undo()
    assert code == 130 and "none was left half-written" in err
    assert files(repo) == before
    # The same command then completes.
    assert rollback("prod", io.StringIO(), root=repo) == EXIT_OK and release(repo)["version"] == "1.5.0"


def test_a_file_that_cannot_be_written_exits_3(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocked = repo / "rendered" / "prod" / "gcp.yaml"
    blocked.unlink()
    blocked.mkdir()  # a directory where the golden render goes: the writer refuses before replacing anything
    before = files(repo)
    code, _, err = cli(repo, "rollback", "prod", capsys=capsys)
    assert code == EXIT_WRITE and "gcp.yaml" in err, err
    assert files(repo) == before and blocked.is_dir()


def test_without_git_history_both_commands_refuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_project(tmp_path)
    err = refused(root, "history", "prod", capsys=capsys)
    assert "not a git repository" in err
    err = refused(root, "rollback", "prod", capsys=capsys)
    assert "not a git repository" in err


def test_a_refused_history_keeps_json_stdout_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`history --json | jq`: a refusal reaches stderr; stdout is JSON or nothing, never a "refused:" line."""
    root = copy_project(tmp_path)
    err = refused(root, "history", "prod", "--json", capsys=capsys)
    assert "not a git repository" in err and err.count("refused: ") == 1


def test_a_refusal_is_written_once_on_stderr_and_a_rollback_that_goes_ahead_on_stdout(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(repo, "rollback", "prod", "--to", "1.3.0", "--dry-run", capsys=capsys)
    assert err.startswith("refused: Pulumi.prod.yaml has never held release '1.3.0'") and err.count("\n") == 1
    code, out, err = cli(repo, "rollback", "prod", "--to", "1.4.2", "--dry-run", capsys=capsys)
    assert code == EXIT_OK and err == "" and out.startswith("Roll prod back to 1.4.2") and out.endswith("--dry-run: nothing written.\n")


def test_bad_arguments_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(repo, "rollback", "nosuch", capsys=capsys)[0] == EXIT_USAGE
    assert cli(repo, "history", "../prod", capsys=capsys)[0] == EXIT_USAGE
    assert cli(repo, "rollback", capsys=capsys)[0] == EXIT_USAGE
