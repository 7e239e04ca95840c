"""GitHub Actions annotations from a JSON report (``jada-checks annotations REPORT``).

One workflow command per fail or error of a control on a target: ``::error`` when it fails
the gate, ``::warning`` when it is below ``--jada-fail-on`` or waived; each with a title
(control, title, target) and the profile as ``file=`` at the target's ``line=``, so the
run's summary and the profile's diff view show it. GitHub shows a limited number of
annotations per step (docs/reports.md); the ones that gate come first.

Escaping, as the runner's own toolkit does it (actions/toolkit, core/src/command.ts):
in the message ``%``, CR and LF; in a property value also ``:`` and ``,``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jada_checks.reporting.locations import (
    blocking,
    findings,
    profile_path,
    source_root,
    target_line,
    waived,
)


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def lines(doc: dict[str, Any], root: Path | None = None) -> list[str]:
    path, _ = profile_path(doc, root or source_root(doc))
    gates = blocking(doc)
    fail_on = doc["gate"]["fail_on"]
    out = []
    for rec in findings(doc):
        gating = (rec["control"], rec["target"]) in gates
        kind = "error" if gating else "warning"
        what = rec["message"] if rec["outcome"] == "fail" else f"not checked: {rec['message']}"
        if waived(rec):
            what += f" (waived until {rec['waiver']['expires']}: {rec['waiver']['justification']})"
        elif not gating:
            what += f" ({rec['severity']}: below fail-on {fail_on}, reported only)"
        title = f"{rec['control']} {rec['title']} [{rec['target']}]"
        props = (f"file={escape_property(path)},line={target_line(doc, rec['target'])},"
                 f"title={escape_property(title)}")
        out.append(f"::{kind} {props}::{escape_data(what)}")
    return out
