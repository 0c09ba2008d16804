"""`python -m ops diff A B`: the rendered difference between two stacks, expected vs. to review.

Environments differ by design in their names, hosts, sizes and release; every other difference is a
finding for the reviewer. `ops promote` builds on this module: it checks its stack names, compares
releases leaf by leaf and refuses the way `diff` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from ops.errors import EXIT_FAILED, EXIT_OK, Refused
from ops.program import ROOT, stack_path
from ops.render import rendered_files
from ops.stack_check import StackReport, check_stack
from ops.textdiff import unified_diff

# Where environment-specific names are replaced, so that e.g. `coditect-staging-ip` and
# `coditect-prod-ip` read the same.
NAMESPACE_PLACEHOLDER = "<namespace>"
STACK_PREFIX_PLACEHOLDER = "coditect-<env>"
HOST_PLACEHOLDER = "<host>"

# What may differ between environments. Anything else is a finding for the reviewer.
EXPECTED_PATHS = tuple(
    re.compile(pattern)
    for pattern in (
        r"metadata\.namespace$",
        r"spec\.replicas$",
        r"spec\.(min|max)Replicas$",
        r"spec\.minAvailable$",
        r"\.resources\.(requests|limits)\.(cpu|memory)$",
        r"\.image$",
        r"labels\.app\.kubernetes\.io/version$",
        r"spec\.rules\.\d+\.host$",
        r"spec\.domains\.\d+$",
    )
)


def require_stacks(stacks: Iterable[str], root: Path) -> None:
    """UsageError (StackFileError, exit code 2) unless every stack name is valid and has its Pulumi.<stack>.yaml."""
    for stack in stacks:
        stack_path(stack, root)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a YAML tree by its dotted path; list items are numbered (`spec.rules.0.host`)."""
    if isinstance(tree, dict):
        children: Iterable[tuple[Any, Any]] = tree.items()
    elif isinstance(tree, list):
        children = enumerate(tree)
    else:
        return {prefix: tree}
    leaves: dict[str, Any] = {}
    for key, value in children:
        leaves.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return leaves


class ResourceKey(NamedTuple):
    """A resource as both stacks can name it: its kind and its name with placeholders."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class _Absent:
    """The value of a leaf that one stack's resource does not have."""

    def __repr__(self) -> str:
        return "'<absent>'"  # printed beside the other side's repr()


ABSENT = _Absent()


@dataclass(frozen=True)
class LeafChange:
    """One leaf of a resource both stacks have, differing (either side may be ABSENT)."""

    resource: ResourceKey
    path: str
    before: object
    after: object

    def __str__(self) -> str:
        return f"{self.resource}: {self.path}: {self.before!r} -> {self.after!r}"


@dataclass(frozen=True)
class OnlyIn:
    """A resource that only one of the stacks has."""

    resource: ResourceKey
    stack: str

    def __str__(self) -> str:
        return f"{self.resource}: only in {self.stack}"


Difference = LeafChange | OnlyIn


@dataclass(frozen=True)
class StackDiff:
    stack_a: str
    stack_b: str
    text_diffs: dict[str, str]  # rendered file name -> unified diff, only files that differ
    expected: list[LeafChange]
    findings: list[Difference]


def _rendered_report(stack: str, root: Path) -> StackReport:
    report = check_stack(stack, root)
    if report.run is None:
        raise Refused(f"{stack} does not render:", report.problems())
    return report


def _placeholders(report: StackReport) -> dict[str, str]:
    """Environment-specific name -> placeholder: the namespace, the host and the coditect-<env> prefix."""
    assert report.run is not None  # _rendered_report made sure
    exports = report.run.exports
    placeholders = {str(exports.get("namespace")): NAMESPACE_PLACEHOLDER}
    placeholders[f"coditect-{report.stack}"] = STACK_PREFIX_PLACEHOLDER  # wins where the namespace is named after the stack
    url = str(exports.get("socketioUrl", ""))
    host = url.split("/")[2] if url.count("/") >= 2 else ""
    if host:
        placeholders[host] = HOST_PLACEHOLDER
    return placeholders


def _with_placeholders(text: str, placeholders: dict[str, str]) -> str:
    for name in sorted(placeholders, key=len, reverse=True):  # longest first: a host contains shorter names
        text = re.sub(rf"(?<![A-Za-z0-9.-]){re.escape(name)}(?![A-Za-z0-9])", placeholders[name], text)
    return text


def _comparable(value: object, placeholders: dict[str, str]) -> object:
    return _with_placeholders(value, placeholders) if isinstance(value, str) else value


def _leaves_by_resource(report: StackReport, placeholders: dict[str, str]) -> dict[ResourceKey, dict[str, Any]]:
    assert report.run is not None  # _rendered_report made sure
    namespace = str(report.run.exports.get("namespace"))
    resources: dict[ResourceKey, dict[str, Any]] = {}
    for manifest in report.manifests:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        is_stack_namespace = kind == "Namespace" and name == namespace
        key = ResourceKey(kind, NAMESPACE_PLACEHOLDER if is_stack_namespace else _with_placeholders(name, placeholders))
        resources[key] = flatten(manifest)
    for resource in report.gcp:
        resources[ResourceKey(resource["type"].rsplit(":", 1)[-1], resource["name"])] = flatten(resource["inputs"])
    return resources


def _is_expected(change: LeafChange, placeholders_a: dict[str, str], placeholders_b: dict[str, str]) -> bool:
    renamed_namespace = change.resource == ResourceKey("Namespace", NAMESPACE_PLACEHOLDER) and change.path == "metadata.name"
    return (
        renamed_namespace
        or any(pattern.search(change.path) for pattern in EXPECTED_PATHS)
        or _comparable(change.before, placeholders_a) == _comparable(change.after, placeholders_b)
    )


def diff_stacks(stack_a: str, stack_b: str, root: Path = ROOT) -> StackDiff:
    require_stacks((stack_a, stack_b), root)
    reports = {stack: _rendered_report(stack, root) for stack in dict.fromkeys((stack_a, stack_b))}
    files_a, files_b = rendered_files(reports[stack_a]), rendered_files(reports[stack_b])
    text_diffs = {
        name: text_diff
        for name in files_a
        if (text_diff := unified_diff(files_a[name], files_b[name], f"{stack_a}/{name}", f"{stack_b}/{name}", context_lines=2))
    }

    placeholders_a, placeholders_b = _placeholders(reports[stack_a]), _placeholders(reports[stack_b])
    resources_a = _leaves_by_resource(reports[stack_a], placeholders_a)
    resources_b = _leaves_by_resource(reports[stack_b], placeholders_b)
    expected: list[LeafChange] = []
    findings: list[Difference] = []
    for key in sorted(resources_a.keys() | resources_b.keys(), key=str):
        if key not in resources_a or key not in resources_b:
            findings.append(OnlyIn(key, stack_a if key in resources_a else stack_b))
            continue
        leaves_a, leaves_b = resources_a[key], resources_b[key]
        for path in sorted(leaves_a.keys() | leaves_b.keys()):
            change = LeafChange(key, path, leaves_a.get(path, ABSENT), leaves_b.get(path, ABSENT))
            if change.before == change.after:
                continue
            if _is_expected(change, placeholders_a, placeholders_b):
                expected.append(change)
            else:
                findings.append(change)
    return StackDiff(stack_a, stack_b, text_diffs, expected, findings)


def print_stack_diff(result: StackDiff, out: TextIO, full: bool = False) -> None:
    if full:
        for text in result.text_diffs.values():
            out.write(text + "\n")
    out.write(
        f"{result.stack_a} -> {result.stack_b}: {len(result.expected)} expected differences "
        "(namespace, hosts, names, replicas, sizes, release), "
        f"{len(result.findings)} other differences to review\n"
    )
    for change in result.expected:
        out.write(f"  expected  {change}\n")
    for difference in result.findings:
        out.write(f"  FINDING   {difference}\n")


def diff(stack_a: str, stack_b: str, out: TextIO, full: bool = False, strict: bool = False, root: Path = ROOT) -> int:
    """The `diff` command: EXIT_FAILED with `strict` when anything but the expected differs, or Refused when a stack does
    not render (the error boundary writes it on stderr, EXIT_FAILED): `out`, perhaps a plan file, then holds nothing."""
    result = diff_stacks(stack_a, stack_b, root)
    print_stack_diff(result, out, full)
    return EXIT_FAILED if strict and result.findings else EXIT_OK
