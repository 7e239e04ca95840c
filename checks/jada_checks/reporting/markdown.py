"""The Markdown report, sized for ``$GITHUB_STEP_SUMMARY`` and GitLab job summaries.

Findings lead (after unreachable targets and what Lightsail discovery found): per target,
errors whose cause is the connection, AWS credentials or sudo (once, with the cause's
fix), failures and errors (most severe first), each fix as a fenced ``sh`` block under
the table, then waived findings, then skipped and passing controls folded into a
``<details>`` block.
"""

from __future__ import annotations

import re
from typing import Any

from jada_checks.model import severity_rank
from jada_checks.remediation import cause
from jada_checks.reporting.discovery import matched, view
from jada_checks.reporting.drift import changes as drift_changes
from jada_checks.reporting.gate import explain, is_waived

ICON = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error", "skipped": "⏭️ skipped"}


def esc(text: Any) -> str:
    """Make a value safe inside a table cell."""
    if text is None:
        return ""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            .replace("<", "&lt;").replace(">", "&gt;"))


def order(rec: dict[str, Any]) -> tuple[int, int, str]:
    """Findings first (by severity), then waived, skipped, passed."""
    if is_waived(rec):
        group = 1
    else:
        group = {"fail": 0, "error": 0, "skipped": 2, "pass": 3}[rec["outcome"]]
    return (group, -severity_rank(rec["severity"]), rec["control"])


def fence(text: str, lang: str = "sh") -> list[str]:
    """A fenced code block that survives any backticks in ``text``."""
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return [ticks + lang, *text.splitlines(), ticks]


def _fixes(recs: list[dict[str, Any]]) -> list[str]:
    """Each finding's fix as a fenced shell block under the table (a table cell cannot
    hold one); identical fixes (the NET controls share their drop-in) are shown once."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for r in recs:
        fix = r["remediation"].strip()
        if not fix:
            continue
        if fix in seen:
            out += [f"**Fix for `{r['control']}`:** the same as `{seen[fix]}`.", ""]
            continue
        seen[fix] = r["control"]
        out += [f"**Fix for `{r['control']}`:**", "", *fence(fix), ""]
    return out


def _finding_rows(recs: list[dict[str, Any]]) -> list[str]:
    rows = ["| Outcome | Control | Severity | Finding | Observed | Expected |",
            "|---|---|---|---|---|---|"]
    for r in recs:
        outcome = ICON[r["outcome"]]
        message = esc(r["message"])
        if r.get("waiver"):
            w = r["waiver"]
            if w["status"] == "applied":
                outcome = f"🛡️ waived ({r['outcome']})"
                message += f"<br>**waived until {w['expires']}:** {esc(w['justification'])}"
            else:
                message += f"<br>**waiver expired {w['expires']}**"
        rows.append(f"| {outcome} | `{r['control']}` | {r['severity']} | {message} | "
                    f"{esc(r['observed'])} | {esc(r['expected'])} |")
    return rows


def _target(target: str, recs: list[dict[str, Any]]) -> list[str]:
    """One target's section; an unreachable target's identical errors become one line."""
    recs = sorted(recs, key=order)
    groups = blocked_groups(recs)
    blocked = [r for group in groups.values() for r in group]
    recs = [r for r in recs if r not in blocked]
    findings = [r for r in recs if order(r)[0] <= 1]
    rest = [r for r in recs if order(r)[0] > 1]
    out = [f"### {esc(target)}", ""]
    for why, group in groups.items():
        out += [f"**Not checked — {esc(why)}:** " + ", ".join(
            f"`{r['control']}` ({r['severity']})" for r in group), "",
            "**Fix:**", "", *fence(group[0]["remediation"].strip()), ""]
    if findings:
        out += _finding_rows(findings) + [""] + _fixes(findings)
    elif not blocked:
        out += ["No findings.", ""]
    if rest:
        out += [f"<details><summary>{len(rest)} passed or skipped</summary>", "",
                "| Outcome | Control | Title | Observed |", "|---|---|---|---|"]
        out += [f"| {ICON[r['outcome']]} | `{r['control']}` | {esc(r['title'])} | "
                f"{esc(r['observed'])} |" for r in rest]
        out += ["", "</details>", ""]
    return out


def blocked_groups(recs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Unwaived errors whose cause is the connection, credentials or sudo, by message:
    shown once with the cause's fix rather than once per control."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        if r["outcome"] == "error" and not is_waived(r) and cause(r["message"]):
            out.setdefault(r["message"], []).append(r)
    return out


def _drift(drift: dict[str, Any]) -> list[str]:
    out = [f"## Drift since {esc(drift['baseline']['path'])} "
           f"({drift['baseline']['finished']})", ""]
    rows = [f"| {kind} | {esc(e['target'])} | `{e['control']}` | {e['severity']} "
            f"| {esc(old)} → {esc(new)} |" for kind, e, old, new in drift_changes(drift)]
    if rows:
        out += ["| Change | Target | Control | Severity | From → to |", "|---|---|---|---|---|"]
        out += rows
    else:
        out.append("No drift.")
    if drift["not_in_baseline"]:
        out += ["", "Not in the baseline: " + ", ".join(map(esc, drift["not_in_baseline"]))]
    return out + [""]


def _discovery(discovery: dict[str, Any]) -> list[str]:
    """What Lightsail discovery asked and found; every failure named (each fails the gate)."""
    v = view(discovery)
    out = ["## Lightsail discovery", "", f"Instances tagged {esc(v.tags)}."]
    if v.error:
        return out + ["", f"**⚠️ GetRegions failed, no region was asked:** {esc(v.error)}", ""]
    out += ["", "| Region | Matching instances | |", "|---|---|---|"]
    for r in v.regions:
        if r.instances is None:
            out.append(f"| {esc(r.region)} | – | ⚠️ error: {esc(r.error)} |")
        else:
            out.append(f"| {esc(r.region)} | {len(r.instances)} | "
                       f"{esc(', '.join(r.instances))} |")
    out += ["", f"{len(v.regions)} region(s) asked, {matched(v)} matching instance(s); "
            f"{len(v.targets)} target(s) from discovery"
            + (f": {esc(', '.join(v.targets))}." if v.targets else ".")]
    if v.listed:
        out.append(f"Also listed in the profile (its entry is checked): "
                   f"{esc(', '.join(v.listed))}.")
    if v.no_public_ip:
        out.append(f"**⚠️ Without a public IP, not checked:** {esc(', '.join(v.no_public_ip))}.")
    return out + [""]


def render(doc: dict[str, Any]) -> str:
    gate, s, run = doc["gate"], doc["summary"], doc["run"]
    icon = "✅" if gate["passed"] else "❌"
    out = ["# jada-checks report", "",
           f"**{icon} {esc(explain(gate, run.get('exit_status')))}**", "",
           f"{s['total']} results on {len(run['targets'])} target(s): {s['fail']} fail, "
           f"{s['error']} error, {s['waived']} waived, {s['skipped']} skipped, "
           f"{s['pass']} pass. Profile `{esc(run['profile']['path'])}` "
           f"(sha256 `{run['profile']['sha256'][:12]}`), suite {doc['suite_version']}, "
           f"finished {run['finished']}.", ""]
    if run["interrupted"]:
        out += ["> **The run was interrupted; results are partial.**", ""]
    if doc["unreachable"]:
        out += ["## Unreachable targets", ""]
        out += [f"- **{esc(u['target'])}**: {esc(u['reason'])} ({u['controls']} controls "
                "not checked)" for u in doc["unreachable"]] + [""]
    if run.get("discovery") is not None:
        out += _discovery(run["discovery"])
    if doc.get("drift") is not None:
        out += _drift(doc["drift"])
    w = doc["waivers"]
    if w["expired"] or w["stale"]:
        out += ["## Waivers needing attention", ""]
        out += [f"- **expired {x['expires']}**: `{x['control']}` on {esc(x['target'])} — "
                f"{esc(x['justification'])}" for x in w["expired"]]
        out += [f"- **stale**: `{x['control']}` on {esc(x['target'])} — {esc(x['reason'])}"
                for x in w["stale"]]
        out.append("")
    out += ["## Results by target", ""]
    for target in run["targets"]:
        recs = [r for r in doc["records"] if r["target"] == target]
        if recs:
            out += _target(target, recs)
    return "\n".join(out).rstrip() + "\n"
