"""The HTML report: one self-contained page that leads to the failures.

A small template of our own rather than pytest-html: pytest-html lays out pytest tests, not
targets, filters by pytest outcome only (no severity, no waived), and would be another
runtime dependency. This page has no external resources, so it works as a CI artifact.

Layout, for the person opening it after a red pipeline: the gate line, then one summary
row per target (targets with findings first) linking to the target and to its first
finding, then each target's findings (most severe first). Passing and skipped rows are
rendered hidden and their filter boxes start unchecked, so the first failure is on the
first screen; Lightsail discovery, drift and waivers follow the results. The table has a
fixed layout with wrapping cells and fits 1366 px without sideways scrolling; fixes are
``<pre>`` blocks that never wrap a command (a long line scrolls inside its block) with a
copy button.
``tests/reporting/test_html_browser.py`` checks both in headless Chromium.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from jada_checks.model import SEVERITIES
from jada_checks.reporting.discovery import matched, view
from jada_checks.reporting.drift import changes as drift_changes
from jada_checks.reporting.gate import explain, is_waived
from jada_checks.reporting.markdown import blocked_groups, order

STATES = ("fail", "error", "waived", "skipped", "pass")
SHOWN = ("fail", "error", "waived")  # filter boxes checked when the page opens

STYLE = """
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1340px;padding:8px 16px;
color:#222}
h1{font-size:20px;margin:4px 0}h2{font-size:17px;margin:14px 0 4px}p{margin:4px 0}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:10px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f3f3f3;overflow-wrap:normal}.fail{background:#fde2e1}.error{background:#fff1d6}
.waived{background:#e3f2fd}.skipped{color:#777}.pass{background:#eaf7ea}
.gate-ok{color:#1a7f37}.gate-bad{color:#c62828}small{color:#555}
fieldset{display:inline-block;margin:0 1em 4px 0;padding:2px 8px}code{font-size:13px}
pre.fix{white-space:pre;overflow-x:auto;max-width:100%;background:#f6f8fa;
border:1px solid #ddd;margin:2px 0 0;padding:4px 6px;font-size:12px}
button.copy{float:right;font-size:11px;margin-left:4px}
table.summary td.n{text-align:right}table.summary{width:auto;min-width:50%}
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
document.querySelectorAll('button.copy').forEach(b=>b.addEventListener('click', () => {
  navigator.clipboard.writeText(b.parentElement.querySelector('pre').textContent)
    .then(() => { b.textContent = 'copied'; });
}));
applyFilters();
"""

HEAD = ('<colgroup><col style="width:7%"><col style="width:15%"><col style="width:31%">'
        '<col style="width:47%"></colgroup>'
        "<tr><th>Outcome</th><th>Control</th><th>Finding</th><th>Fix</th></tr>")


def state(rec: dict[str, Any]) -> str:
    return "waived" if is_waived(rec) else rec["outcome"]


def anchor(target: str) -> str:
    return "t-" + re.sub(r"[^A-Za-z0-9_-]", "-", target)


def fix_block(text: str) -> str:
    """A fix as a ``<pre>`` with a copy button."""
    return ('<div><button class="copy" type="button">copy</button>'
            f'<pre class="fix">{escape(text)}</pre></div>')


def _row(r: dict[str, Any], row_id: str | None = None) -> str:
    st = state(r)
    note = ""
    if r.get("waiver"):
        w = r["waiver"]
        word = "waived until" if w["status"] == "applied" else "waiver EXPIRED"
        note = f"<br><b>{word} {escape(w['expires'])}:</b> {escape(w['justification'])}"
    details = "".join(f"<br><small>{k}: {escape(str(r[k]))}</small>"
                      for k in ("observed", "expected", "source") if r.get(k))
    fix = fix_block(r["remediation"]) if r["outcome"] in ("fail", "error") else ""
    tries = f" <small>({r['attempts']} attempts)</small>" if r.get("attempts", 1) > 1 else ""
    hidden = "" if st in SHOWN else " hidden"
    ident = f' id="{row_id}"' if row_id else ""
    return (f'<tr{ident} class="{st}" data-state="{st}" '
            f'data-severity="{escape(r["severity"])}"{hidden}>'
            f"<td>{st}{tries}</td><td><code>{escape(r['control'])}</code> "
            f"<small>{escape(r['severity'])}</small><br><small>{escape(r['title'])}</small></td>"
            f"<td>{escape(r['message'])}{note}{details}</td><td>{fix}</td></tr>")


def _blocked_row(reason: str, recs: list[dict[str, Any]], row_id: str) -> str:
    """Errors of one cause (connection, credentials, sudo) as one row with its fix."""
    names = ", ".join(f"<code>{escape(r['control'])}</code>" for r in recs)
    fix = fix_block(recs[0]["remediation"])
    return (f'<tr id="{row_id}" class="error" data-state="error" '
            f'data-severity="{escape(max(recs, key=order)["severity"])}">'
            f"<td>error</td><td>{len(recs)} controls not checked</td>"
            f"<td>{escape(reason)}<br><small>{names}</small></td><td>{fix}</td></tr>")


def _filters(counts: dict[str, int]) -> str:
    boxes = "".join(f'<label><input type="checkbox" name="state" value="{s}"'
                    f'{" checked" if s in SHOWN else ""}> {s} ({counts.get(s, 0)})</label> '
                    for s in STATES)
    sev = "".join(f'<label><input type="checkbox" name="severity" value="{s}" checked> {s}'
                  "</label> " for s in SEVERITIES)
    return (f"<fieldset><legend>Show outcomes</legend>{boxes}</fieldset>"
            f"<fieldset><legend>Severity</legend>{sev}</fieldset>")


def _list(title: str, items: list[str], ident: str) -> str:
    if not items:
        return ""
    return (f'<h2 id="{ident}">{escape(title)}</h2><ul>'
            + "".join(f"<li>{i}</li>" for i in items) + "</ul>")


def _drift(drift: dict[str, Any] | None) -> str:
    if drift is None:
        return ""
    items = [f"<b>{escape(kind)}</b> {escape(e['target'])} <code>{escape(e['control'])}</code>: "
             f"{escape(f'{old} → {new}')}" for kind, e, old, new in drift_changes(drift)]
    title = f"Drift since {drift['baseline']['path']} ({drift['baseline']['finished']})"
    return _list(title, items, "drift") or f'<h2 id="drift">{escape(title)}</h2><p>No drift.</p>'


def _discovery(discovery: dict[str, Any] | None) -> str:
    """What Lightsail discovery asked and found; every failure named (each fails the gate)."""
    if discovery is None:
        return ""
    v = view(discovery)
    head = (f'<h2 id="discovery">Lightsail discovery</h2><p>Instances tagged '
            f"{escape(v.tags)}.</p>")
    if v.error:
        return head + (f'<p class="error"><b>GetRegions failed, no region was asked:</b> '
                       f"{escape(v.error)}</p>")
    rows = "".join(
        f'<tr class="error"><td>{escape(r.region)}</td><td class="n">–</td>'
        f"<td><b>error:</b> {escape(r.error or '')}</td></tr>" if r.instances is None else
        f'<tr><td>{escape(r.region)}</td><td class="n">{len(r.instances)}</td>'
        f"<td>{escape(', '.join(r.instances))}</td></tr>" for r in v.regions)
    parts = [head, '<table class="summary"><tr><th>Region</th><th>Matching instances</th>'
             f"<th>Names</th></tr>{rows}</table>",
             f"<p>{len(v.regions)} region(s) asked, {matched(v)} matching instance(s); "
             f"{len(v.targets)} target(s) from discovery"
             + (f": {escape(', '.join(v.targets))}" if v.targets else "") + ".</p>"]
    if v.listed:
        parts.append(f"<p>Also listed in the profile (its entry is checked): "
                     f"{escape(', '.join(v.listed))}.</p>")
    if v.no_public_ip:
        parts.append(f'<p class="error"><b>Without a public IP, not checked:</b> '
                     f"{escape(', '.join(v.no_public_ip))}.</p>")
    return "".join(parts)


def _target_counts(recs: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for r in recs:
        counts[state(r)] += 1
    return counts


def _targets(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Targets with records, those with the most unwaived findings first, then by name."""
    out = [(t, sorted((r for r in doc["records"] if r["target"] == t), key=order))
           for t in doc["run"]["targets"]]
    out = [(t, recs) for t, recs in out if recs]
    return sorted(out, key=lambda tr: (-sum(state(r) in ("fail", "error") for r in tr[1]),
                                       tr[0]))


def _summary(targets: list[tuple[str, list[dict[str, Any]]]], doc: dict[str, Any]) -> str:
    rows = []
    for t, recs in targets:
        c = _target_counts(recs)
        first = (f'<a href="#{anchor(t)}-first">first finding</a>'
                 if c["fail"] + c["error"] else "")
        rows.append(f'<tr><td><a href="#{anchor(t)}">{escape(t)}</a></td>'
                    + "".join(f'<td class="n">{c[s]}</td>' for s in STATES)
                    + f"<td>{first}</td></tr>")
    links = [f'<a href="#{i}">{label}</a>' for i, label, present in (
        ("discovery", "Lightsail discovery", doc["run"].get("discovery") is not None),
        ("drift", "drift", doc.get("drift") is not None),
        ("unreachable", "unreachable targets", bool(doc["unreachable"])),
        ("waivers", "waivers needing attention",
         bool(doc["waivers"]["expired"] or doc["waivers"]["stale"]))) if present]
    more = f"<p>Below the results: {', '.join(links)}.</p>" if links else ""
    return ('<table class="summary"><tr><th>Target</th>'
            + "".join(f"<th>{s}</th>" for s in STATES) + "<th></th></tr>"
            + "".join(rows) + "</table>" + more)


def _section(target: str, recs: list[dict[str, Any]]) -> str:
    groups = blocked_groups(recs)
    rest = [r for r in recs if not any(r in g for g in groups.values())]
    rows: list[str] = []
    first = f"{anchor(target)}-first"
    for why, group in groups.items():
        rows.append(_blocked_row(why, group, first or f"{anchor(target)}-{len(rows)}"))
        first = ""
    for r in rest:
        is_first = first and state(r) in ("fail", "error")
        rows.append(_row(r, first if is_first else None))
        if is_first:
            first = ""
    c = _target_counts(recs)
    counts = ", ".join(f"{c[s]} {s}" for s in STATES if c[s])
    return (f'<h2 id="{anchor(target)}">{escape(target)} <small>({counts})</small></h2>'
            f"<table>{HEAD}{''.join(rows)}</table>")


def render(doc: dict[str, Any]) -> str:
    gate, run, s = doc["gate"], doc["run"], doc["summary"]
    targets = _targets(doc)
    ok = gate["passed"] and run.get("exit_status") in (None, 0)
    parts = [f"<h1>jada-checks report</h1><p class=\"{'gate-ok' if ok else 'gate-bad'}"
             f"\"><b>{escape(explain(gate, run.get('exit_status')))}</b></p>",
             f"<p>{s['total']} results on {len(run['targets'])} target(s): {s['fail']} fail, "
             f"{s['error']} error, {s['waived']} waived, {s['skipped']} skipped, {s['pass']} "
             f"pass. <small>profile {escape(run['profile']['path'])} (sha256 "
             f"{run['profile']['sha256'][:12]}), suite {escape(doc['suite_version'])}, "
             f"finished {run['finished']}</small></p>"]
    if run["interrupted"]:
        parts.append("<p><b>The run was interrupted; results are partial.</b></p>")
    counts = _target_counts(doc["records"])
    parts += [_summary(targets, doc), _filters(counts)]
    parts += [_section(t, recs) for t, recs in targets]
    parts.append(_discovery(run.get("discovery")))
    parts.append(_drift(doc.get("drift")))
    parts.append(_list("Unreachable targets", [
        f"<b>{escape(u['target'])}</b>: {escape(u['reason'])}" for u in doc["unreachable"]],
        "unreachable"))
    w = doc["waivers"]
    parts.append(_list("Waivers needing attention", [
        f"<b>expired {escape(x['expires'])}</b>: {escape(x['control'])} on "
        f"{escape(x['target'])} — {escape(x['justification'])}" for x in w["expired"]] + [
        f"<b>stale</b>: {escape(x['control'])} on {escape(x['target'])} — "
        f"{escape(x['reason'])}" for x in w["stale"]], "waivers"))
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            "<title>jada-checks report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}"
            f"<script>{SCRIPT}</script></body></html>\n")
