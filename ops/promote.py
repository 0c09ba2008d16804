"""`python -m ops promote FROM TO` and `python -m ops diff A B`: releases move, nothing else does.

A release is `coditect:release` (the app version and the image digest of every container). Promote
copies it from Pulumi.FROM.yaml into Pulumi.TO.yaml, keeping that file's comments, key order and
formatting, renders the target before and after, shows both diffs, and writes the stack file and
the target's golden render. It never deploys: the change goes through review and `pulumi preview/up`.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ruamel.yaml import YAML

from gke.rules import is_digest_pinned
from ops.check import StackReport, check_stack
from ops.errors import UsageError
from ops.program import ROOT, StackFileError, stack_path
from ops.render import DEFAULT_OUT, rendered_files

ORDER = ("dev", "staging", "prod")
RELEASE_KEY = "coditect:release"


class Refused(Exception):
    """Promotion refused: exit code 1 with this message."""


def _round_trip() -> YAML:
    yaml = YAML()  # round-trip mode: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(path: Path) -> Any:
    return _round_trip().load(path.read_text())


def _dump(document: Any) -> str:
    out = io.StringIO()
    _round_trip().dump(document, out)
    return out.getvalue()


def _merge_into(target: Any, source: Any) -> None:
    """Set every leaf of `source` in `target`, in place, so target's comments and layout stay."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def unified(before: str, after: str, label: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"{label} (before)", f"{label} (after)", n=3))


@dataclass
class Promotion:
    source: str
    target: str
    stack_diff: str = ""
    render_diffs: dict[str, str] = field(default_factory=dict)
    new_stack_text: str = ""
    new_rendered: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def _failures(report: StackReport) -> str:
    return "\n".join(f"  - {line}" for line in report.problems())


def plan(source: str, target: str, skip_stage: bool = False, root: Path = ROOT) -> Promotion:
    for stack in (source, target):
        try:
            stack_path(stack, root)
        except StackFileError as error:
            raise UsageError(str(error)) from None
    if source == target:
        raise UsageError("FROM and TO are the same stack")
    if source in ORDER and target in ORDER:
        step = ORDER.index(target) - ORDER.index(source)
        if step < 0:
            raise Refused(f"promotion goes {' -> '.join(ORDER)}; {source} -> {target} goes backwards "
                          f"(to roll {target} back, promote the release you want from the stack before it, or edit the stack file in a reviewed change)")
        if step > 1 and not skip_stage:
            skipped = ", ".join(ORDER[ORDER.index(source) + 1:ORDER.index(target)])
            raise Refused(f"{source} -> {target} skips {skipped}: a release reaches {target} only after it ran in {skipped}. "
                          "Promote step by step, or pass --skip-stage to do it anyway.")

    source_doc, target_path = _load(root / f"Pulumi.{source}.yaml"), root / f"Pulumi.{target}.yaml"
    release = (source_doc.get("config") or {}).get(RELEASE_KEY)
    if not isinstance(release, dict):
        raise Refused(f"Pulumi.{source}.yaml has no {RELEASE_KEY} to promote")
    unpinned = {role: image for role, image in (release.get("images") or {}).items() if not is_digest_pinned(image)}
    if unpinned:
        listed = ", ".join(f"{role}={image}" for role, image in unpinned.items())
        raise Refused(f"{source}'s images are not pinned by digest ({listed}); only repository@sha256:<digest> images are "
                      "promoted, so that what ran in {source} is exactly what runs in {target}".replace("{source}", source).replace("{target}", target))

    source_report = check_stack(source, root)
    if not source_report.ok:
        raise Refused(f"the source stack {source} does not render cleanly; fix it before promoting from it:\n{_failures(source_report)}")

    before_text = target_path.read_text()
    target_doc = _load(target_path)
    config = target_doc.setdefault("config", {})
    before_release = copy.deepcopy(config.get(RELEASE_KEY) or {})
    if isinstance(config.get(RELEASE_KEY), dict):
        _merge_into(config[RELEASE_KEY], release)
    else:
        config[RELEASE_KEY] = copy.deepcopy(release)
    after_text = _dump(target_doc)

    promotion = Promotion(source, target, new_stack_text=after_text)
    before_leaves, after_leaves = _flatten(_plain(before_release)), _flatten(_plain(config[RELEASE_KEY]))
    promotion.changed = {k: (before_leaves.get(k), v) for k, v in after_leaves.items() if before_leaves.get(k) != v}
    promotion.stack_diff = unified(before_text, after_text, f"Pulumi.{target}.yaml")

    before_report = check_stack(target, root)
    after_report = check_stack(target, root, stack_text=after_text)
    if not after_report.ok:
        raise Refused(f"{target} does not render cleanly with {source}'s release; nothing was changed:\n{_failures(after_report)}")
    before_files = rendered_files(before_report) if before_report.run is not None else {}
    promotion.new_rendered = rendered_files(after_report)
    for name, text in promotion.new_rendered.items():
        diff = unified(before_files.get(name, ""), text, f"rendered/{target}/{name}")
        if diff:
            promotion.render_diffs[name] = diff
    return promotion


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def promote(source: str, target: str, out: TextIO, dry_run: bool = False, skip_stage: bool = False, root: Path = ROOT) -> int:
    try:
        promotion = plan(source, target, skip_stage, root)
    except Refused as refusal:
        out.write(f"refused: {refusal}\n")
        return 1
    if not promotion.changed:
        out.write(f"{target} already runs {source}'s release; nothing to do.\n")
        return 0
    out.write(f"Promote {source} -> {target}:\n")
    for key, (old, new) in promotion.changed.items():
        out.write(f"  {RELEASE_KEY}.{key}: {old} -> {new}\n")
    out.write(f"\n{promotion.stack_diff}\n")
    for diff in promotion.render_diffs.values():
        out.write(f"{diff}\n")
    if dry_run:
        out.write("--dry-run: nothing written.\n")
        return 0
    (root / f"Pulumi.{target}.yaml").write_text(promotion.new_stack_text)
    golden = root / DEFAULT_OUT.name / target
    golden.mkdir(parents=True, exist_ok=True)
    for name, text in promotion.new_rendered.items():
        (golden / name).write_text(text)
    out.write(f"Wrote Pulumi.{target}.yaml and rendered/{target}/. Nothing was deployed: open a pull request; CI runs "
              f"`pulumi preview --policy-pack policy` on {target}; after review, `pulumi up -s {target}`, then `python -m ops verify`.\n")
    return 0


# --- diff between stacks --------------------------------------------------------------------------

# What may differ between environments. Anything else is a finding for the reviewer.
EXPECTED_PATHS = (
    r"metadata\.namespace$",
    r"spec\.replicas$", r"spec\.(min|max)Replicas$", r"spec\.minAvailable$",
    r"\.resources\.(requests|limits)\.(cpu|memory)$",
    r"\.image$", r"labels\.app\.kubernetes\.io/version$",
    r"spec\.rules\.\d+\.host$", r"spec\.domains\.\d+$",
)


@dataclass
class StackDiff:
    a: str
    b: str
    text_diffs: dict[str, str] = field(default_factory=dict)
    expected: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        flat: dict[str, Any] = {}
        for key, value in node.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(node, list):
        flat = {}
        for i, value in enumerate(node):
            flat.update(_flatten(value, f"{prefix}.{i}"))
        return flat
    return {prefix: node}


def _objects(report: StackReport, tokens: dict[str, str]) -> dict[str, dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = {}
    namespace = str(report.run.exports.get("namespace")) if report.run else ""
    for m in report.manifests:
        name = "<namespace>" if m["kind"] == "Namespace" and m["metadata"]["name"] == namespace else _neutral(m["metadata"]["name"], tokens)
        objects[f"{m['kind']} {name}"] = _flatten(m)
    for g in report.gcp:
        objects[f"{g['type'].rsplit(':', 1)[-1]} {g['name']}"] = _flatten(g["inputs"])
    return objects


def _tokens(report: StackReport) -> dict[str, str]:
    """Environment-specific names: the namespace, hosts and the coditect-<env> prefix."""
    assert report.run is not None
    exports = report.run.exports
    tokens = {str(exports.get("namespace")): "<namespace>"}
    tokens[f"coditect-{report.stack}"] = "coditect-<env>"  # wins where the namespace is named after the stack
    url = str(exports.get("socketioUrl", ""))
    host = url.split("/")[2] if url.count("/") >= 2 else ""
    if host:
        tokens[host] = "<host>"
    return tokens


def _neutral(value: Any, tokens: dict[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    for token in sorted(tokens, key=len, reverse=True):
        value = re.sub(rf"(?<![A-Za-z0-9.-]){re.escape(token)}(?![A-Za-z0-9])", tokens[token], value)
    return value


def diff_stacks(a: str, b: str, root: Path = ROOT) -> StackDiff:
    reports = {}
    for stack in (a, b):
        try:
            stack_path(stack, root)
        except StackFileError as error:
            raise UsageError(str(error)) from None
        report = check_stack(stack, root)
        if report.run is None:
            raise Refused(f"{stack} does not render:\n{_failures(report)}")
        reports[stack] = report
    result = StackDiff(a, b)
    files = {stack: rendered_files(report) for stack, report in reports.items()}
    for name in files[a]:
        text = "".join(difflib.unified_diff(files[a][name].splitlines(keepends=True), files[b][name].splitlines(keepends=True),
                                            f"{a}/{name}", f"{b}/{name}", n=2))
        if text:
            result.text_diffs[name] = text
    tokens = {stack: _tokens(report) for stack, report in reports.items()}
    objects = {stack: _objects(report, tokens[stack]) for stack, report in reports.items()}
    for key in sorted(set(objects[a]) | set(objects[b])):
        if key not in objects[b] or key not in objects[a]:
            result.findings.append(f"{key}: only in {a if key in objects[a] else b}")
            continue
        left, right = objects[a][key], objects[b][key]
        for path in sorted(set(left) | set(right)):
            va, vb = left.get(path, "<absent>"), right.get(path, "<absent>")
            if va == vb:
                continue
            line = f"{key}: {path}: {va!r} -> {vb!r}"
            renamed_namespace = key == "Namespace <namespace>" and path == "metadata.name"
            if renamed_namespace or any(re.search(p, path) for p in EXPECTED_PATHS) or _neutral(va, tokens[a]) == _neutral(vb, tokens[b]):
                result.expected.append(line)
            else:
                result.findings.append(line)
    return result


def print_diff(result: StackDiff, out: TextIO, full: bool = False) -> None:
    if full:
        for text in result.text_diffs.values():
            out.write(text + "\n")
    out.write(f"{result.a} -> {result.b}: {len(result.expected)} expected differences "
              "(namespace, hosts, names, replicas, sizes, release), "
              f"{len(result.findings)} other differences to review\n")
    for line in result.expected:
        out.write(f"  expected  {line}\n")
    for line in result.findings:
        out.write(f"  FINDING   {line}\n")
