"""Drift: what changed per target and control since a baseline report.

Compared on raw outcomes (a waived failure is still a failure): newly failing, newly
erroring, resolved (fail/error before, pass/skipped now), and *changed* — the same
outcome both times but the observed value differs (``4096 -> 8192`` while passing, or
``1536 -> 2048`` while still failing: a value moving is news even when the verdict is not).
Only targets this run checked are compared, so a shard can be compared with a full baseline.
"""

from __future__ import annotations

from typing import Any

from jada_checks.reporting.gate import DRIFT_KINDS


def _entry(rec: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    return {"target": rec["target"], "control": rec["control"], "title": rec["title"],
            "severity": rec["severity"],
            "outcome_from": old["outcome"] if old else None, "outcome_to": rec["outcome"],
            "observed_from": old["observed"] if old else None,
            "observed_to": rec["observed"]}


def classify(rec: dict[str, Any], old: dict[str, Any] | None) -> str | None:
    """The drift kind of one record against its baseline record, or None."""
    before = old["outcome"] if old else None
    now = rec["outcome"]
    if now == "fail" and before != "fail":
        return "newly_failing"
    if now == "error" and before != "error":
        return "newly_erroring"
    if before in ("fail", "error") and now in ("pass", "skipped"):
        return "resolved"
    if old is not None and before == now and old["observed"] != rec["observed"]:
        return "changed"  # same outcome, other value: 1536 -> 2048 while still failing
    return None


def compute(baseline: dict[str, Any], records: list[dict[str, Any]], targets: list[str],
            baseline_path: str) -> dict[str, Any]:
    """The report's drift section for this run's records against ``baseline``."""
    known = set(baseline["run"]["targets"])
    old = {(r["target"], r["control"]): r for r in baseline["records"]}
    out: dict[str, Any] = {k: [] for k in DRIFT_KINDS}
    for rec in sorted(records, key=lambda r: (r["target"], r["control"])):
        if rec["target"] not in known:
            continue
        kind = classify(rec, old.get((rec["target"], rec["control"])))
        if kind:
            out[kind].append(_entry(rec, old.get((rec["target"], rec["control"]))))
    out["baseline"] = {"path": baseline_path, "finished": baseline["run"]["finished"],
                       "suite_version": baseline["suite_version"]}
    out["not_in_baseline"] = sorted(t for t in targets if t not in known)
    return out


def changes(drift: dict[str, Any]) -> list[tuple[str, dict[str, Any], str, str]]:
    """Every change of a drift section, in report order, as (kind label, entry, from, to):
    observed values for "changed", outcomes otherwise. Shared by the renderers."""
    out = []
    for kind in ("newly_failing", "newly_erroring", "resolved", "changed"):
        for e in drift[kind]:
            label = kind.replace("_", " ")
            if kind == "changed":
                old, new = str(e["observed_from"]), str(e["observed_to"])
                if e["outcome_to"] != "pass":
                    label = f"changed (still {e['outcome_to']})"
            else:
                old, new = e["outcome_from"] or "absent", e["outcome_to"]
            out.append((label, e, old, new))
    return out
