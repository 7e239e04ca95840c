"""Shared builders for the reporting tests: real record dicts and finished documents.

(No tests here; named so it sits with the reporting tests it serves.)
"""

from __future__ import annotations

import copy
from typing import Any

from jada_checks.reporting.document import REPORT_VERSION, finish
from tests.support.paths import REPO

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


def demo_target(tmp_path: Any, name: str = "drifted") -> Any:
    """A profile target with both sides, as the demo's (loaded through the real loader)."""
    from jada_checks.profile import load_profile

    path = tmp_path / f"{name}.yaml"
    path.write_text("version: 1\ntargets:\n"
                    f"  - name: {name}\n"
                    "    ssh: {host: 10.0.0.7, port: 2222, user: ops, identity_file: id_demo,"
                    " known_hosts: known_hosts}\n"
                    "    lightsail: {instance: jada-prod-1, region: eu-west-2}\n")
    return load_profile(path).targets[0]


def demo_like(tmp_path: Any) -> dict[str, Any]:
    """What ``make demo`` reports: the real catalogue, a passing target that sorts first by
    name, ``compliant``, and ``drifted`` failing its documented faults with filled-in fixes
    and a somaxconn drift (1536 -> 2048, still failing)."""

    import yaml

    from jada_checks.controls import catalogue
    from jada_checks.remediation import fix_for
    from jada_checks.reporting.drift import compute

    repo = REPO
    faults = yaml.safe_load((repo / "sandbox/hosts/drifted/faults.yaml").read_text())["faults"]
    target = demo_target(tmp_path)
    facts = {"user": "jada", "home": "/home/jada", "settings": "/home/jada/.claude/settings.json"}
    records = []
    for c in catalogue():
        for name in ("alpha-compliant", "compliant"):
            records.append(rec(control=c.id, target=name, outcome="pass", severity=c.severity,
                               message=f"{c.title}: as expected", title=c.title,
                               remediation=fix_for(c, target, "pass", "")))
        outcome = faults.get(c.id, "pass")
        observed = ("net.core.somaxconn = 2048" if c.id == "JADA-NET-01"
                    else f"observed value of {c.id} " * 3)
        records.append(rec(control=c.id, target="drifted", outcome=outcome, severity=c.severity,
                           title=c.title, message=f"{c.title}: not as expected on drifted; " * 2,
                           observed=observed, expected="the profile's value",
                           remediation=fix_for(c, target, outcome, "", facts,
                                               observed, "the profile's value")))
    base_recs = [dict(r, observed="net.core.somaxconn = 1536") if
                 (r["target"], r["control"]) == ("drifted", "JADA-NET-01") else r
                 for r in records]
    targets = ["alpha-compliant", "compliant", "drifted"]
    base = doc(base_recs, targets=targets)
    return doc(records, targets=targets, drift=compute(base, records, targets, "baseline.json"))
