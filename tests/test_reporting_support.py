"""Shared builders for the reporting tests: real record dicts and finished documents.

(No tests here; named so it sits with the reporting tests it serves.)
"""

from __future__ import annotations

import copy
from typing import Any

from jada_checks.reporting.document import REPORT_VERSION, finish

FP = "a" * 64


def rec(control: str = "JADA-UNIT-01", target: str = "web-1", outcome: str = "fail",
        severity: str = "high", observed: str | None = "x", **kw: Any) -> dict[str, Any]:
    """A record as jada_checks.plugin.outcome_record makes it (plus the reporting fields)."""
    out = {"control": control, "title": f"title of {control}", "severity": severity,
           "area": control.split("-")[1].lower(), "target": target, "outcome": outcome,
           "message": f"{control} is {outcome}", "observed": observed, "expected": "y",
           "source": "systemctl show", "remediation": "fix it", "duration": 0.01,
           "attempts": 1, "waiver": None}
    out.update(kw)
    return out


def doc(records: list[dict[str, Any]], targets: list[str] | None = None, *,
        fail_on: str = "low", fail_on_drift: bool = False, shard: str | None = None,
        drift: dict[str, Any] | None = None, fingerprint: str = FP,
        finished: str = "2025-01-01T00:00:10.000Z") -> dict[str, Any]:
    """A finished report document around ``records``."""
    targets = targets if targets is not None else sorted({r["target"] for r in records})
    run = {"started": "2025-01-01T00:00:00.000Z", "finished": finished, "duration": 10.0,
           "profile": {"path": "/p.yml", "sha256": "b" * 64, "fingerprint": fingerprint},
           "targets": targets,
           "options": {"fail_on": fail_on, "fail_on_drift": fail_on_drift,
                       "retry_timeout": None, "shard": shard, "waivers": None,
                       "baseline": None},
           "interrupted": False, "unrecorded": 0}
    return finish({"report_version": REPORT_VERSION, "suite_version": "0.1.0", "run": run,
                   "records": copy.deepcopy(records),
                   "waivers": {"file": None, "applied": 0, "expired": [], "stale": []},
                   "drift": drift})
