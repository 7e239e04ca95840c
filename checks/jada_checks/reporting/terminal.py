"""The end-of-run terminal summary: controls × targets, then unreachable targets and the gate.

Colour comes from pytest's terminal writer, which only marks up on a TTY (or with
``--color=yes``), so logs and CI output stay plain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jada_checks.reporting.drift import changes as drift_changes
from jada_checks.reporting.gate import explain, is_waived

CELL = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skipped": "SKIP"}
MARKUP = {"PASS": {"green": True}, "FAIL": {"red": True, "bold": True},
          "ERROR": {"red": True}, "SKIP": {"yellow": True}, "WAIVED": {"cyan": True},
          "-": {}}


def cell(rec: dict[str, Any] | None) -> str:
    if rec is None:
        return "-"
    return "WAIVED" if is_waived(rec) else CELL[rec["outcome"]]


def _matrix(tr: pytest.TerminalReporter, doc: dict[str, Any]) -> bool:
    """Write the controls × targets table; False if it would not fit the terminal."""
    targets = doc["run"]["targets"]
    by = {(r["control"], r["target"]): r for r in doc["records"]}
    controls = sorted({r["control"] for r in doc["records"]})
    widths = [max(len(t), 6) for t in targets]
    first = max([len(c) for c in controls] + [len("control")])
    if first + sum(w + 2 for w in widths) > tr._tw.fullwidth:
        return False
    tr.write_line("control".ljust(first) + "".join("  " + t.ljust(w)
                                                   for t, w in zip(targets, widths, strict=True)))
    for c in controls:
        tr.write(c.ljust(first))
        for t, w in zip(targets, widths, strict=True):
            text = cell(by.get((c, t)))
            tr.write("  ")
            tr.write(text.ljust(w), **MARKUP[text])
        tr.line("")
    return True


def _counts(tr: pytest.TerminalReporter, doc: dict[str, Any]) -> None:
    """Fallback for many targets: one line of counts per target."""
    for t in doc["run"]["targets"]:
        recs = [r for r in doc["records"] if r["target"] == t]
        parts = [(n, sum(1 for r in recs if cell(r) == n))
                 for n in ("FAIL", "ERROR", "WAIVED", "SKIP", "PASS")]
        tr.write(t.ljust(24))
        for name, n in parts:
            tr.write(f"  {name.lower()} {n:<4}", **(MARKUP[name] if n else {}))
        tr.line("")


def write_summary(tr: pytest.TerminalReporter, doc: dict[str, Any],
                  written: list[str]) -> None:
    tr.write_sep("=", "jada-checks summary")
    if doc["records"] and not _matrix(tr, doc):
        _counts(tr, doc)
    for u in doc["unreachable"]:
        tr.write_line(f"UNREACHABLE {u['target']}: {u['reason']} "
                      f"({u['controls']} controls not checked)", red=True, bold=True)
        reason: str = u["reason"]
        _fix(tr, doc, u["target"], reason.__eq__)
    for target, msgs in _refused(doc).items():
        tr.write_line(f"SUDO {target}: {len(msgs)} controls errored, {msgs[0]}",
                      red=True, bold=True)
        _fix(tr, doc, target, lambda m: m.startswith(REFUSED))
    for target, msgs in _aws(doc).items():
        tr.write_line(f"AWS {target}: {len(msgs)} controls errored, {msgs[0]}",
                      red=True, bold=True)
        _fix(tr, doc, target, lambda m: AWS in m)
    drift = doc.get("drift")
    if drift is not None:
        n = {k: len(drift[k]) for k in ("newly_failing", "newly_erroring", "resolved",
                                        "changed")}
        tr.write_line(f"drift vs {drift['baseline']['path']}: "
                      + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in n.items()),
                      yellow=any(n.values()))
        for label, e, old, new in drift_changes(drift):
            if e["outcome_from"] == e["outcome_to"]:
                tr.write_line(f"  {label}: {e['target']} {e['control']}: {old} -> {new}")
    for w in doc["waivers"]["expired"]:
        tr.write_line(f"waiver EXPIRED {w['expires']}: {w['control']} on {w['target']} "
                      "no longer applies", yellow=True)
    for w in doc["waivers"]["stale"]:
        tr.write_line(f"waiver STALE: {w['control']} on {w['target']}: {w['reason']}",
                      yellow=True)
    gate, status = doc["gate"], doc["run"].get("exit_status")
    ok = gate["passed"] and status in (None, 0)
    tr.write_line(explain(gate, status), green=ok, red=not ok, bold=True)
    for path in written:
        tr.write_line(f"report written: {path}")


REFUSED = "a read that needs root was refused"
AWS = "AWS credentials"


def _fix(tr: pytest.TerminalReporter, doc: dict[str, Any], target: str,
         match: Callable[[str], bool]) -> None:
    """The cause's fix, once per target, indented so it pastes as it is."""
    rec = next((r for r in doc["records"] if r["target"] == target
                and r["outcome"] == "error" and match(r["message"])), None)
    if rec is not None:
        tr.write_line("  fix:")
        for line in rec["remediation"].splitlines():
            tr.write_line("      " + line)


def _aws(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Per target, the messages of Lightsail controls that had no usable credentials."""
    out: dict[str, list[str]] = {}
    for r in doc["records"]:
        if r["outcome"] == "error" and AWS in r["message"]:
            out.setdefault(r["target"], []).append(r["message"])
    return dict(sorted(out.items()))


def _refused(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Per target, the messages of controls whose root reads sudo refused: the target's
    sudo preflight result, said once instead of once per control."""
    out: dict[str, list[str]] = {}
    for r in doc["records"]:
        if r["outcome"] == "error" and r["message"].startswith(REFUSED):
            out.setdefault(r["target"], []).append(r["message"])
    return dict(sorted(out.items()))
