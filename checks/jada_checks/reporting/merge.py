"""Merging the JSON reports of shards into one report of the whole run.

Shards must come from the same profile (fingerprint) and report version, with the same
gate options, and check disjoint targets. The merged report is an ordinary report: its
gate is recomputed from all records, and it can be a baseline for the next run.
"""

from __future__ import annotations

import sys
from typing import Any

from jada_checks.inputs import InputError
from jada_checks.reporting import outputs
from jada_checks.reporting.document import REPORT_VERSION, finish, read, undiscovered, write
from jada_checks.reporting.gate import DRIFT_KINDS, explain
from jada_checks.reporting.waivers import NO_MATCH


class MergeError(ValueError):
    """The reports cannot be merged; the message says which and why."""


def _key(w: dict[str, Any]) -> tuple[str, str, str]:
    return (w["control"], w["target"], w["expires"])


def _check(docs: list[tuple[str, dict[str, Any]]]) -> None:
    first_name, first = docs[0]
    seen: dict[str, str] = {}
    for name, doc in docs:
        if doc["report_version"] != REPORT_VERSION:
            raise MergeError(f"{name}: report_version {doc['report_version']}, "
                             f"expected {REPORT_VERSION}")
        if doc["run"]["profile"]["fingerprint"] != first["run"]["profile"]["fingerprint"]:
            raise MergeError(f"{name}: produced from a different profile than {first_name} "
                             "(targets or expectations differ)")
        for opt in ("fail_on", "fail_on_drift"):
            if doc["run"]["options"][opt] != first["run"]["options"][opt]:
                flag = "--jada-" + opt.replace("_", "-")
                raise MergeError(f"{name}: {flag} differs from {first_name}")
        if (doc.get("drift") is None) != (first.get("drift") is None):
            raise MergeError(f"{name}: drift against a baseline in some reports only")
        for t in doc["run"]["targets"]:
            if t in seen:
                raise MergeError(f"target {t!r} is in both {seen[t]} and {name}; "
                                 "shards must check disjoint targets")
            seen[t] = name


def merge(docs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge ``(name, report)`` pairs (name is for messages, e.g. the file path)."""
    if not docs:
        raise MergeError("nothing to merge")
    _check(docs)
    first = docs[0][1]
    doc = {"report_version": REPORT_VERSION, "suite_version": first["suite_version"],
           "run": _merged_run(docs), "records": [r for _, d in docs for r in d["records"]],
           "waivers": _merged_waivers(docs), "drift": _merged_drift(docs)}
    return finish(doc)


def _merged_run(docs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The run section: the widest time span, every target, and where each shard came from."""
    first = docs[0][1]
    runs = [d["run"] for _, d in docs]
    run = {
        "started": min(r["started"] for r in runs),
        "finished": max(r["finished"] for r in runs),
        "duration": max(r["duration"] for r in runs),
        "profile": first["run"]["profile"],
        "targets": sorted(t for r in runs for t in r["targets"]),
        "options": dict(first["run"]["options"], shard=None),
        "interrupted": any(r["interrupted"] for r in runs),
        "unrecorded": sum(r["unrecorded"] for r in runs),
        "merged_from": [{"name": name, "shard": d["run"]["options"]["shard"],
                         "targets": d["run"]["targets"]} for name, d in docs],
    }
    retries: dict[str, int] = {}
    for r in runs:
        for name, n in r.get("ssh_retries", {}).items():
            retries[name] = retries.get(name, 0) + n
    if any("ssh_retries" in r for r in runs):
        run["ssh_retries"] = retries
    discovery = _merged_discovery(runs)
    if discovery is not None:
        run["discovery"] = discovery
    return run


def _merged_discovery(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Every shard discovers the same fleet; a region one of them could not read fails
    the merged gate too (document.finish reads run.discovery)."""
    failing = [r["discovery"] for r in runs if "discovery" in r
               and undiscovered(r["discovery"])]
    found = failing or [r["discovery"] for r in runs if "discovery" in r]
    return found[0] if found else None


def _merged_waivers(docs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Applied waivers add up; an expired one sums its findings; a waiver is stale only
    where every shard found it stale."""
    sections = [d["waivers"] for _, d in docs]
    return {"file": docs[0][1]["waivers"]["file"],
            "applied": sum(s["applied"] for s in sections),
            "expired": _merged_expired(sections),
            "stale": _merged_stale(sections)}


def _merged_expired(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    expired: dict[tuple[str, str, str], dict[str, Any]] = {}
    for s in sections:
        for w in s["expired"]:
            prev = expired.get(_key(w))
            expired[_key(w)] = dict(w, findings=w["findings"] + (prev["findings"] if prev else 0))
    return [expired[k] for k in sorted(expired)]


def _merged_stale(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stale_everywhere = set.intersection(*[{_key(w) for w in s["stale"]} for s in sections])
    stale: dict[tuple[str, str, str], dict[str, Any]] = {}
    for s in sections:
        for w in s["stale"]:  # prefer "does not fail" over a shard's "matches nothing"
            if _key(w) in stale_everywhere and (_key(w) not in stale or w["reason"] != NO_MATCH):
                stale[_key(w)] = w
    return [stale[k] for k in sorted(stale)]


def _merged_drift(docs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """Each shard's drift against the same baseline, joined; None without a baseline."""
    first = docs[0][1]
    if first.get("drift") is None:
        return None
    drift: dict[str, Any] = {
        k: sorted((e for _, d in docs for e in d["drift"][k]),
                  key=lambda e: (e["target"], e["control"])) for k in DRIFT_KINDS}
    drift["baseline"] = first["drift"]["baseline"]
    drift["not_in_baseline"] = sorted(t for _, d in docs for t in d["drift"]["not_in_baseline"])
    return drift


def merge_files(out: str, inputs: list[str], md: str | None = None,
                html_path: str | None = None, **more: str | None) -> int:
    """The ``merge-reports`` command: 0 gate passed, 1 gate failed, 2 unusable input."""
    try:
        doc = merge([(p, read(p, "report")) for p in inputs])
    except (InputError, MergeError) as exc:
        print(f"merge-reports: {exc}", file=sys.stderr)
        return 2  # the jada-checks CLI's usage code
    write(doc, out)
    for fmt, path in {"md": md, "html": html_path, **more}.items():
        if path:  # more: sarif, codequality, metrics (outputs.RENDERERS)
            outputs.write(doc, fmt, path)
    print(f"merged {len(inputs)} report(s), {len(doc['run']['targets'])} target(s) -> {out}; "
          f"{explain(doc['gate'])}")
    return doc["gate"]["exit_code"]
