"""The HTML report: one self-contained page, per target, filterable by outcome and severity.

A small template of our own rather than pytest-html: pytest-html lays out pytest tests, not
targets, filters by pytest outcome only (no severity, no waived), and would be another
runtime dependency. This page has no external resources, so it works as a CI artifact.
"""

from __future__ import annotations

from html import escape
from typing import Any

from jada_checks.model import SEVERITIES
from jada_checks.reporting.drift import changes as drift_changes
from jada_checks.reporting.gate import explain, is_waived
from jada_checks.reporting.markdown import order

STATES = ("fail", "error", "waived", "skipped", "pass")

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.fail{background:#fde2e1}.error{background:#fff1d6}
.waived{background:#e3f2fd}.skipped{color:#777}.pass{background:#eaf7ea}
.gate-ok{color:#1a7f37}.gate-bad{color:#c62828}small{color:#555}
fieldset{display:inline-block;margin-right:1em}code{font-size:13px}
"""

SCRIPT = """
function applyFilters(){
  const on = n => [...document.querySelectorAll('input[name='+n+']:checked')].map(e=>e.value);
  const st = on('state'), sev = on('severity');
  document.querySelectorAll('tr[data-state]').forEach(r => {
    r.hidden = !(st.includes(r.dataset.state) && sev.includes(r.dataset.severity));
  });
}
document.querySelectorAll('input[type=checkbox]').forEach(e=>e.addEventListener('change',
  applyFilters));
applyFilters();
"""


def state(rec: dict[str, Any]) -> str:
    return "waived" if is_waived(rec) else rec["outcome"]


def _row(r: dict[str, Any]) -> str:
    st = state(r)
    note = ""
    if r.get("waiver"):
        w = r["waiver"]
        word = "waived until" if w["status"] == "applied" else "waiver EXPIRED"
        note = f"<br><b>{word} {escape(w['expires'])}:</b> {escape(w['justification'])}"
    fix = escape(r["remediation"]) if r["outcome"] in ("fail", "error") else ""
    tries = f" <small>({r['attempts']} attempts)</small>" if r.get("attempts", 1) > 1 else ""
    return (f'<tr class="{st}" data-state="{st}" data-severity="{escape(r["severity"])}">'
            f"<td>{st}{tries}</td><td><code>{escape(r['control'])}</code><br>"
            f"<small>{escape(r['title'])}</small></td><td>{escape(r['severity'])}</td>"
            f"<td>{escape(r['message'])}{note}</td><td>{escape(r['observed'] or '')}</td>"
            f"<td>{escape(r['expected'] or '')}</td><td>{escape(r['source'] or '')}</td>"
            f"<td>{fix}</td></tr>")


def _filters() -> str:
    boxes = "".join(f'<label><input type="checkbox" name="state" value="{s}" checked> {s}'
                    "</label> " for s in STATES)
    sev = "".join(f'<label><input type="checkbox" name="severity" value="{s}" checked> {s}'
                  "</label> " for s in SEVERITIES)
    return (f"<fieldset><legend>Outcome</legend>{boxes}</fieldset>"
            f"<fieldset><legend>Severity</legend>{sev}</fieldset>")


def _list(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return f"<h2>{escape(title)}</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _drift(drift: dict[str, Any] | None) -> str:
    if drift is None:
        return ""
    items = [f"<b>{kind}</b> {escape(e['target'])} <code>{escape(e['control'])}</code>: "
             f"{escape(f'{old} → {new}')}" for kind, e, old, new in drift_changes(drift)]
    title = f"Drift since {drift['baseline']['path']} ({drift['baseline']['finished']})"
    return _list(title, items) or f"<h2>{escape(title)}</h2><p>No drift.</p>"


def render(doc: dict[str, Any]) -> str:
    gate, run, s = doc["gate"], doc["run"], doc["summary"]
    parts = [f"<h1>jada-checks report</h1><p class=\"{'gate-ok' if gate['passed'] else 'gate-bad'}"
             f"\"><b>{escape(explain(gate, run.get('exit_status')))}</b></p>",
             f"<p>{s['total']} results on {len(run['targets'])} target(s): {s['fail']} fail, "
             f"{s['error']} error, {s['waived']} waived, {s['skipped']} skipped, {s['pass']} "
             f"pass.<br><small>profile {escape(run['profile']['path'])} (sha256 "
             f"{run['profile']['sha256'][:12]}), suite {escape(doc['suite_version'])}, "
             f"finished {run['finished']}</small></p>"]
    if run["interrupted"]:
        parts.append("<p><b>The run was interrupted; results are partial.</b></p>")
    parts.append(_list("Unreachable targets", [
        f"<b>{escape(u['target'])}</b>: {escape(u['reason'])}" for u in doc["unreachable"]]))
    parts.append(_drift(doc.get("drift")))
    w = doc["waivers"]
    parts.append(_list("Waivers needing attention", [
        f"<b>expired {escape(x['expires'])}</b>: {escape(x['control'])} on "
        f"{escape(x['target'])} — {escape(x['justification'])}" for x in w["expired"]] + [
        f"<b>stale</b>: {escape(x['control'])} on {escape(x['target'])} — "
        f"{escape(x['reason'])}" for x in w["stale"]]))
    parts.append(_filters())
    head = ("<tr><th>Outcome</th><th>Control</th><th>Severity</th><th>Message</th>"
            "<th>Observed</th><th>Expected</th><th>Source</th><th>Remediation</th></tr>")
    for target in run["targets"]:
        recs = sorted((r for r in doc["records"] if r["target"] == target), key=order)
        if recs:
            parts.append(f"<h2>{escape(target)}</h2><table>{head}"
                         + "".join(_row(r) for r in recs) + "</table>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>jada-checks report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}"
            f"<script>{SCRIPT}</script></body></html>\n")
