"""What a stack would create, as files: the golden render (rendered/<stack>/) and the stack's policy pack
config, written by `ops render` and compared with the committed ones by `ops check` (ops/project_check.py)."""

from __future__ import annotations

import difflib
import gc
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ops.atomic import write_files
from ops.errors import EXIT_FAILED, EXIT_OK, clip_lines
from ops.manifests import dump_yaml, dump_yaml_documents
from ops.pack_config import config_path, pack_config_text
from ops.program import ROOT
from ops.stack_check import StackReport, check_stack

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
    rows += [(g["type"].rsplit(":", 1)[-1], g["inputs"].get("name") or g["inputs"].get("displayName") or g["name"], "(gcp)") for g in report.gcp]
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


@dataclass(frozen=True)
class Rendered:
    report: StackReport
    files: dict[str, Path]  # what each written file holds ("kubernetes", "gcp", "pack-config") -> its path; empty when not written


def render_stack(stack: str, out_dir: Path, root: Path = ROOT) -> Rendered:
    """Check the stack with the pack config its settings give now and, when the program ran, write its
    rendered files and that config, all together or none (WriteError)."""
    # Judged with the file as it will be written and read back, exactly what the CLI will get.
    report = check_stack(stack, root, pack_config=lambda settings: json.loads(pack_config_text(settings, stack)))
    freeze_loaded_objects()
    if report.run is None:
        return Rendered(report, {})
    target = out_dir / stack
    paths = {"kubernetes": target / KUBERNETES_FILE, "gcp": target / GCP_FILE, "pack-config": pack_config_target(stack, out_dir, root)}
    texts = rendered_files(report)
    write_files(
        {paths["kubernetes"]: texts[KUBERNETES_FILE], paths["gcp"]: texts[GCP_FILE], paths["pack-config"]: expected_pack_config(report)}
    )  # every file, or none
    return Rendered(report, paths)


def expected_pack_config(report: StackReport) -> str:
    """policy/config/<stack>.json as the stack's settings give it now (ops/pack_config.py generates it)."""
    assert report.settings is not None  # check_stack read them before running anything
    return pack_config_text(report.settings, report.stack)


def print_rendered(rendered: Rendered, out: TextIO) -> None:
    report = rendered.report
    if rendered.files:
        out.write(
            f"Rendered {report.stack}: {shown_path(rendered.files['kubernetes'])} ({len(report.manifests)} objects), "
            f"{shown_path(rendered.files['gcp'])} ({len(report.gcp)} resources), "
            f"{shown_path(rendered.files['pack-config'])} (policy pack config)\n"
        )
        print_table(report, out)
    print_verdict(report, out)


def render(stack: str, out_dir: Path, out: TextIO, root: Path = ROOT) -> int:
    """Render one stack and print what was written and the verdict: EXIT_OK when it checks clean, else EXIT_FAILED."""
    rendered = render_stack(stack, out_dir, root)
    print_rendered(rendered, out)
    return EXIT_OK if rendered.report.ok else EXIT_FAILED


def rendered_json(rendered: Rendered) -> dict[str, Any]:
    """One stack's entry of `render --json`: the check's record and the files written."""
    return {**rendered.report.record(), "files": {what: shown_path(path) for what, path in rendered.files.items()}}


def freeze_loaded_objects() -> None:
    """Exempt everything alive now from later garbage collections, for the commands that run stack
    after stack and then exit. A stack's run imports the SDK modules it uses, several hundred thousand
    long-lived objects; without this, each full collection during the next stacks rescans them all,
    which costs more than the next stacks' own work. What is frozen is never freed, so this is for a
    short-lived process, not for every program run."""
    gc.freeze()


def shown_path(path: Path) -> str:
    """A path as printed: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def stale_files(report: StackReport, golden_dir: Path = DEFAULT_OUT) -> list[str]:
    """Unified diffs of committed golden files (and the stack's policy pack config beside them) that no
    longer match the program's render."""
    return list(stale(report, golden_dir).values())


def stale(report: StackReport, golden_dir: Path = DEFAULT_OUT) -> dict[Path, str]:
    """Each stale golden file -> its diff (or why it cannot be compared)."""
    diffs: dict[Path, str] = {}
    expected = {golden_dir / report.stack / name: text for name, text in rendered_files(report).items()}
    expected[config_path(golden_dir.parent, report.stack)] = expected_pack_config(report)
    for path, text in expected.items():
        committed, unusable = _committed_text(path)
        if unusable:
            diffs[path] = f"{path} {unusable}\n"
        elif committed != text:
            diff = "".join(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"{path} (committed)",
                    f"{path} (program)",
                    n=2,
                )
            )
            diffs[path] = diff or f"{path} is missing\n"
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
