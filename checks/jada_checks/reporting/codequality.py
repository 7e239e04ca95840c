"""GitLab code quality (``--jada-report-codequality``, ``artifacts:reports:codequality``).

GitLab's format (docs.gitlab.com/ci/testing/code_quality, "Code Quality report format"):
a JSON array of issues, each with ``description``, ``check_name``, ``fingerprint`` (GitLab
compares issues across pipelines by it), ``severity`` (``info``, ``minor``, ``major``,
``critical``, ``blocker``) and ``location`` (``path`` relative to the repository,
``lines.begin``). One issue per fail or error of a control on a target, at the target's
line in the profile; the fingerprint is the control and target, so an issue keeps its
identity while its observed value changes. Waived findings are accepted, not listed.
Our five severities map in order onto GitLab's five.
"""

from __future__ import annotations

import json
from typing import Any

from jada_checks.reporting.locations import (
    findings,
    fingerprint,
    profile_path,
    source_root,
    target_line,
    waived,
)

SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor",
            "info": "info"}


def issues(doc: dict[str, Any]) -> list[dict[str, Any]]:
    path, _ = profile_path(doc, source_root(doc))
    out = []
    for rec in findings(doc):
        if waived(rec):
            continue
        what = rec["message"] if rec["outcome"] == "fail" else f"not checked: {rec['message']}"
        out.append({
            "description": f"{rec['control']} {rec['title']} [{rec['target']}]: {what}",
            "check_name": rec["control"],
            "fingerprint": fingerprint(rec),
            "severity": SEVERITY[rec["severity"]],
            "location": {"path": path, "lines": {"begin": target_line(doc, rec["target"])}},
        })
    return out


def render(doc: dict[str, Any]) -> str:
    return json.dumps(issues(doc), indent=2) + "\n"
