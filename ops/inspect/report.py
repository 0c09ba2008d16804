"""The inspection as the write-up's success table (metric, target, live, status) grouped by layer,
then the diagnoses; or one JSON document for machines.

Every cell and heading value is folded onto one line (`fold`, ops/terminal.py): live values and the
messages they quote come from the cluster and Google Cloud, and a line break in one must not start a
line that reads like the table's verdict. The JSON document keeps each value exact."""

from __future__ import annotations

import json

from livestate.inspector import Inspection
from livestate.model import Layer
from ops.terminal import fold

__all__ = ["Inspection", "as_json", "progress", "text"]
WIDTH = 58  # a column's longest cell; JSON keeps everything whole


def _cut(text: str) -> str:
    """A cell: folded onto one line first, so the width bound counts what is printed."""
    text = fold(text)
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def text(inspection: Inspection) -> str:
    lines = [f"inspect {fold(inspection.stack)}: cluster {fold(inspection.context)}, project {fold(inspection.project)}"]
    rows = [(fold(c.metric), _cut(c.target), _cut(c.live), c.status.value.upper()) for c in inspection.checks]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(("METRIC", "TARGET", "LIVE"))]
    for layer in Layer:
        in_layer = [(c, r) for c, r in zip(inspection.checks, rows, strict=True) if c.layer is layer]
        if not in_layer:
            continue
        lines.append(f"\n{layer.value}")
        lines.append(f"  {'METRIC':<{widths[0]}}  {'TARGET':<{widths[1]}}  {'LIVE':<{widths[2]}}  STATUS")
        lines += [f"  {m:<{widths[0]}}  {t:<{widths[1]}}  {li:<{widths[2]}}  {s}" for _, (m, t, li, s) in in_layer]
    failing = sum(not c.ok for c in inspection.checks)
    verdict = "converged" if inspection.converged else f"NOT converged: {failing} of {len(inspection.checks)} checks"
    lines.append(f"\n{verdict} ({inspection.polls} poll{'s' if inspection.polls != 1 else ''}, {inspection.seconds:.2f} s)")
    if inspection.diagnoses:
        lines.append("\ndiagnosis:")
        lines += [f"  - {d.text()}" for d in inspection.diagnoses]
    return "\n".join(lines)


def as_json(inspection: Inspection) -> str:
    return json.dumps(
        {
            "stack": inspection.stack,
            "context": inspection.context,
            "project": inspection.project,
            "converged": inspection.converged,
            "polls": inspection.polls,
            "seconds": round(inspection.seconds, 3),
            "layers": {layer.value: ok for layer, ok in inspection.layers().items()},
            "checks": [c.as_dict() for c in inspection.checks],
            "diagnoses": [d.as_dict() for d in inspection.diagnoses],
        },
        indent=2,
    )


def progress(inspection: Inspection, elapsed: float) -> str:
    """One line per poll of --wait: each layer converged or not."""
    parts = [f"{layer.value} {'ok' if ok else 'waiting'}" for layer, ok in inspection.layers().items()]
    return f"[{elapsed:6.1f} s] poll {inspection.polls}: " + ", ".join(parts)
