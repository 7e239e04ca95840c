"""SARIF 2.1.0 (``--jada-report-sarif``) for code scanning: GitHub's Security tab and any
SARIF viewer.

One rule per control of the run (id, title, rationale, the remediation as help, severity
as ``defaultConfiguration.level`` and as GitHub's ``security-severity``), one result per
fail or error of a control on a target. Errors are results too: a control that could not
look is a finding the operator must see (the gate counts it like a failure), and a
code-scanning view that dropped it would read as clean; its message says "not checked".
A waived finding is a result with an accepted external suppression, so viewers show it
as suppressed rather than lose it.

A result's physical location is the target's line in the profile (relative to the
repository root, ``%SRCROOT%``); its logical locations are the target, and the file on
the target the observed value came from when the control names one.

GitHub's conventions (docs.github.com, "SARIF support for code scanning"): a rule is a
security rule when its ``tags`` include ``security`` and it has ``security-severity``, a
score over 9.0 for critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low; 0.0 or none is no
security severity (our ``info``). Validated against SchemaStore's sarif-2.1.0.json in the
self-tests (tests/reporting/test_ci_outputs.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jada_checks
from jada_checks.reporting.locations import (
    findings,
    fingerprint,
    profile_path,
    source_root,
    target_line,
    waived,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
         "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
MAX_DESCRIPTION = 1024  # GitHub's limit for shortDescription and fullDescription


def _short(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1] + "…"


def rule(control: str, fallback: dict[str, Any]) -> dict[str, Any]:
    """The rule of ``control``: from the catalogue, else (a report of another version)
    from a record of it."""
    from jada_checks.controls import catalogue

    known = {c.id: c for c in catalogue()}.get(control)
    title = known.title if known else fallback["title"]
    severity = known.severity if known else fallback["severity"]
    rationale = known.rationale if known else (
        f"Your own check, {fallback['test']}: {title}" if fallback.get("test") else title)
    remediation = known.remediation if known else fallback["remediation"]
    area = known.area if known else str(fallback.get("area") or "other")
    props: dict[str, Any] = {"tags": ["jada-checks", area],
                             "precision": "high", "severity": severity}
    if severity in SECURITY_SEVERITY:
        props["tags"].insert(0, "security")
        props["security-severity"] = SECURITY_SEVERITY[severity]
    return {
        "id": control,
        "name": control.replace("-", ""),
        "shortDescription": {"text": _short(title)},
        "fullDescription": {"text": _short(rationale)},
        "help": {"text": remediation,
                 "markdown": f"**Remediation**\n\n{remediation}\n\n**Why**\n\n{rationale}"},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": props,
    }


def logical_locations(rec: dict[str, Any]) -> list[dict[str, Any]]:
    out = [{"name": rec["target"], "fullyQualifiedName": rec["target"], "kind": "host"}]
    source = rec.get("source") or ""
    if source.startswith("/"):
        path = source.split(" ", 1)[0]
        out.append({"name": path, "fullyQualifiedName": f"{rec['target']}:{path}",
                    "kind": "file"})
    return out


def result(rec: dict[str, Any], index: int, uri: dict[str, Any], line: int,
           rule_level: str) -> dict[str, Any]:
    text = rec["message"] if rec["outcome"] == "fail" else f"not checked: {rec['message']}"
    out: dict[str, Any] = {
        "ruleId": rec["control"],
        "ruleIndex": index,
        "level": rule_level,
        "kind": "fail",
        "message": {"text": f"{rec['target']}: {text}"},
        "locations": [{
            "physicalLocation": {"artifactLocation": uri, "region": {"startLine": line}},
            "logicalLocations": logical_locations(rec),
        }],
        "partialFingerprints": {"jadaFinding/v1": fingerprint(rec)},
        "properties": {k: rec.get(k) for k in ("target", "outcome", "severity", "observed",
                                               "expected", "source", "remediation")},
    }
    if waived(rec):
        w = rec["waiver"]
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": f"waived until {w['expires']}: "
                                                 f"{w['justification']}"}]
    return out


def render(doc: dict[str, Any]) -> str:
    root = source_root(doc)
    path, relative = profile_path(doc, root)
    uri: dict[str, Any] = ({"uri": path, "uriBaseId": "%SRCROOT%"} if relative
                           else {"uri": Path(path).as_uri()})
    base = root.as_uri().rstrip("/") + "/"
    first: dict[str, dict[str, Any]] = {}
    for rec in doc["records"]:
        first.setdefault(rec["control"], rec)
    rules = [rule(c, first[c]) for c in sorted(first)]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [result(rec, index[rec["control"]], uri, target_line(doc, rec["target"]),
                      rules[index[rec["control"]]]["defaultConfiguration"]["level"])
               for rec in findings(doc)]
    run = doc["run"]
    invocation: dict[str, Any] = {
        "executionSuccessful": run.get("exit_status", 0) in (0, 1) and not run["interrupted"],
        "startTimeUtc": run["started"], "endTimeUtc": run["finished"],
        "workingDirectory": {"uri": base},
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": f"{u['target']}: {u['reason']}"},
             "locations": [{"logicalLocations": [{"name": u["target"], "kind": "host"}]}]}
            for u in doc["unreachable"]],
    }
    if "exit_status" in run:
        invocation["exitCode"] = run["exit_status"]
    sarif = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "jada-checks", "version": jada_checks.__version__,
                                "semanticVersion": jada_checks.__version__, "rules": rules}},
            "automationDetails": {"id": f"jada-checks/{run['started']}"},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": base}},
            "invocations": [invocation],
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2) + "\n"
