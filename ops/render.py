"""`python -m ops render` and `python -m ops check`: what a stack would create, checked, offline."""

from __future__ import annotations

import difflib
import gc
from pathlib import Path
from typing import TextIO

from ops.atomic import write_files
from ops.check import StackReport, UsageError, check_stack
from ops.errors import clip, clip_lines
from ops.manifests import dump_yaml, dump_yaml_documents
from ops.pack_config import config_path
from ops.program import ROOT, available_stacks, require_stacks, stack_file_names, stack_path

DEFAULT_OUT = ROOT / "rendered"
KUBERNETES_FILE = "kubernetes.yaml"
GCP_FILE = "gcp.yaml"
PACK_CONFIG_FILE = "policy-pack-config.json"
HEADER = (
    "# Rendered by `python -m ops render {stack}` from __main__.py and Pulumi.{stack}.yaml; do not edit.\n"
    "# Targets cluster {cluster}, Google Cloud project {project}.\n"
    "# Values known only after deployment appear as <known after deploy: ...>; secrets as [secret].\n"
)


def rendered_files(report: StackReport) -> dict[str, str]:
    """File name -> text, exactly what `render` writes for the stack."""
    exports = report.run.exports if report.run else {}
    header = HEADER.format(stack=report.stack, cluster=exports.get("cluster", "<unknown>"), project=exports.get("gcpProject", "<unknown>"))
    return {
        KUBERNETES_FILE: header + dump_yaml_documents(report.manifests),
        GCP_FILE: header + dump_yaml(report.gcp),
    }


def print_table(report: StackReport, out: TextIO) -> None:
    rows = [(m["kind"], m["metadata"]["name"], m["metadata"].get("namespace", "-")) for m in report.manifests]
    rows += [(g["type"].rsplit(":", 1)[-1], g["inputs"].get("name") or g["inputs"].get("displayName") or g["name"], "(gcp)")
             for g in report.gcp]
    widths = [max([len(h)] + [len(str(r[i])) for r in rows]) for i, h in enumerate(("KIND", "NAME", "NAMESPACE"))]
    for row in [("KIND", "NAME", "NAMESPACE"), *rows]:
        out.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def print_verdict(report: StackReport, out: TextIO) -> None:
    mode = " (preview)" if report.run is not None and report.run.preview else ""
    if report.ok:
        out.write(
            f"{report.stack}{mode}: OK: {len(report.manifests)} Kubernetes objects pass strict schemas and the GKE policy pack, "
            f"{len(report.gcp)} Google Cloud resources match Google's API types ({len(report.advisory)} advisory)\n"
        )
    else:
        out.write(f"{report.stack}: FAILED: {len(report.problems())} problem(s)\n")
        for line in report.problems():
            out.write(f"  - {clip_lines(line)}\n")
    for violation in report.advisory:
        out.write(f"  advisory {violation}\n")
    for unknown in report.unknown_at_preview:
        out.write(f"  not judged at preview (unknown until deploy; judged on up): {unknown}\n")


def pack_config_target(stack: str, out_dir: Path, root: Path) -> Path:
    """Where `render` writes the stack's policy pack config: policy/config/<stack>.json when it renders
    the project's golden files, else next to the files it renders (an --out render leaves the project as it is)."""
    if out_dir.resolve() == (root / DEFAULT_OUT.name).resolve():
        return config_path(root, stack)
    return out_dir / stack / PACK_CONFIG_FILE


def render(stack: str, out_dir: Path, out: TextIO, root: Path = ROOT) -> int:
    report = check_stack(stack, root, fresh_pack_config=True)
    freeze_loaded_objects()
    if report.run is not None:
        target = out_dir / stack
        pack_config = pack_config_target(stack, out_dir, root)
        files: dict[Path, str] = {target / name: text for name, text in rendered_files(report).items()}
        write_files({**files, pack_config: report.pack_config_text})  # every file, or none
        out.write(f"Rendered {stack}: {_shown(target / KUBERNETES_FILE)} ({len(report.manifests)} objects), "
                  f"{_shown(target / GCP_FILE)} ({len(report.gcp)} resources), {_shown(pack_config)} (policy pack config)\n")
        print_table(report, out)
    print_verdict(report, out)
    return 0 if report.ok else 1


def freeze_loaded_objects() -> None:
    """Exempt everything alive now from later garbage collections, for the commands that run stack
    after stack and then exit. A stack's run imports the SDK modules it uses, several hundred thousand
    long-lived objects; without this, each full collection during the next stacks rescans them all,
    which costs more than the next stacks' own work. What is frozen is never freed, so this is for a
    short-lived process, not for every program run."""
    gc.freeze()


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def stale_files(report: StackReport, golden_dir: Path = DEFAULT_OUT) -> list[str]:
    """Unified diffs of committed golden files (and the stack's policy pack config beside them) that no
    longer match the program's render."""
    diffs: list[str] = []
    expected = {golden_dir / report.stack / name: text for name, text in rendered_files(report).items()}
    expected[config_path(golden_dir.parent, report.stack)] = report.pack_config_text
    for path, text in expected.items():
        committed, unusable = _committed_text(path)
        if unusable:
            diffs.append(f"{path} {unusable}\n")
        elif committed != text:
            diff = "".join(difflib.unified_diff(
                committed.splitlines(keepends=True), text.splitlines(keepends=True),
                f"{path} (committed)", f"{path} (program)", n=2,
            ))
            diffs.append(diff or f"{path} is missing\n")
    return diffs


def _committed_text(path: Path) -> tuple[str, str]:
    """(text of a golden file, "" ) or ("", why it cannot be compared); a missing file reads as ""."""
    if not path.exists():
        return "", ""
    if not path.is_file():
        return "", "is not a file (a directory?); delete it and refresh with `python -m ops render`"
    try:
        return path.read_bytes().decode("utf-8"), ""
    except UnicodeDecodeError:
        return "", "is not UTF-8 text; refresh it with `python -m ops render`"
    except OSError as error:
        return "", f"cannot be read ({error.strerror or error})"


def project_leftovers(root: Path) -> list[str]:
    """What the project holds for a stack that does not exist: a rendered/<stack>/ without its stack
    file, or a stack file whose name is not a valid stack name."""
    stacks = set(available_stacks(root))
    problems = [f"Pulumi.{name}.yaml: {clip(repr(name), 60)} is not a valid stack name; rename the file"
                for name in stack_file_names(root) if name not in stacks]
    golden_dir = root / DEFAULT_OUT.name
    if golden_dir.is_dir():
        problems += [f"{DEFAULT_OUT.name}/{clip(entry.name, 60)}/ belongs to no stack (no Pulumi.{clip(entry.name, 60)}.yaml); "
                     f"delete it (git rm -r {DEFAULT_OUT.name}/{clip(entry.name, 60)}) or restore the stack file"
                     for entry in sorted(golden_dir.iterdir()) if entry.is_dir() and entry.name not in stacks]
    return problems


def check_all(out: TextIO, stacks: list[str] | None = None, root: Path = ROOT, preview: bool = False) -> int:
    """Every stack: program, rules, schemas, Google API types, and golden files (root/rendered) up to
    date; with `preview`, the program as `pulumi preview` runs it, without the golden files. Checking
    every stack also flags leftovers of stacks that no longer exist. UsageError (exit code 2) when a
    named stack does not exist, or the project has none."""
    if stacks:
        for stack in stacks:
            stack_path(stack, root)  # an unknown stack is a bad argument, not a failed check
    failed = False
    golden_dir = root / DEFAULT_OUT.name
    if not stacks:
        stacks = require_stacks(root)
        for leftover in project_leftovers(root):
            out.write(f"FAILED: {leftover}\n")
            failed = True
    for stack in stacks:
        try:
            report = check_stack(stack, root, preview=preview)
        except UsageError as error:
            out.write(f"{stack}: FAILED: {clip_lines(str(error))}\n")
            failed = True
            continue
        print_verdict(report, out)
        freeze_loaded_objects()
        failed |= not report.ok
        if report.run is not None and not preview:
            for diff in stale_files(report, golden_dir):
                failed = True
                out.write(f"{stack}: rendered files are stale; refresh with `python -m ops render {stack}` and commit:\n{_clip_diff(diff)}")
    return 1 if failed else 0


def _clip_diff(diff: str, max_lines: int = 400) -> str:
    """A stale file's diff, bounded: long lines cut, at most `max_lines` lines."""
    lines = diff.splitlines(keepends=True)
    kept = "".join(clip(line.rstrip("\n")) + "\n" for line in lines[:max_lines])
    return kept + (f"... [{len(lines) - max_lines} more diff lines]\n" if len(lines) > max_lines else "")
