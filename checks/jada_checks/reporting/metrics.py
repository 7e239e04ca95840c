"""Metrics (``--jada-report-metrics``): the run as Prometheus text, for node_exporter's
textfile collector (write into its directory; the file is replaced atomically) or a
Pushgateway (POST the file to ``/metrics/job/<job>``; no sample carries a timestamp,
which the Pushgateway would refuse).

Written with prometheus_client, imported only here, so only a run that asks for metrics
pays for it. Every series is a gauge (the value of the last run, not a count over runs):

- ``jada_check_outcome{control,target,severity,area,outcome,waived} 1``: one sample per
  control × target, its outcome as a label (``pass``, ``fail``, ``error``, ``skipped``);
- ``jada_findings{severity,outcome}``: fails and errors per severity (zero included, so an
  alert on a series never misses it), ``jada_findings_blocking`` (the gate's) and
  ``jada_results{outcome}`` (counts per outcome);
- ``jada_run_duration_seconds``, ``jada_run_finished_timestamp_seconds`` (alert when the
  nightly is stale), ``jada_gate_passed``, ``jada_exit_status``, ``jada_targets_checked``,
  ``jada_targets_unreachable``;
- with ``targets_from``: ``jada_discovery_instances{region}`` (matching instances),
  ``jada_discovery_region_errors{region}``, ``jada_discovery_targets`` (added by discovery),
  ``jada_discovery_no_public_ip``;
- ``jada_checks_info{version}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jada_checks.model import SEVERITIES, STATUSES
from jada_checks.reporting.locations import waived


def _timestamp(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def registry(doc: dict[str, Any]) -> Any:
    from prometheus_client import CollectorRegistry, Gauge, Info

    reg = CollectorRegistry(auto_describe=True)
    run = doc["run"]

    def gauge(name: str, doc_: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc_, labels, registry=reg)

    outcome = gauge("jada_check_outcome", "Outcome of a control on a target in the last run "
                    "(1; the outcome is the label)",
                    ("control", "target", "severity", "area", "outcome", "waived"))
    for r in doc["records"]:
        outcome.labels(r["control"], r["target"], r["severity"], r["area"], r["outcome"],
                       str(waived(r)).lower()).set(1)
    found = gauge("jada_findings", "Fails and errors per severity in the last run "
                  "(waived ones included)", ("severity", "outcome"))
    for sev in SEVERITIES:
        for out in ("fail", "error"):
            found.labels(sev, out).set(sum(1 for r in doc["records"]
                                           if r["severity"] == sev and r["outcome"] == out))
    per = gauge("jada_results", "Controls × targets per outcome in the last run",
                ("outcome",))
    for status in STATUSES:
        per.labels(status).set(doc["summary"][status])
    gauge("jada_findings_blocking", "Findings that failed the gate").set(
        len(doc["gate"]["blocking"]))
    gauge("jada_gate_passed", "1 when the gate passed").set(int(doc["gate"]["passed"]))
    gauge("jada_exit_status", "Exit status of the run (0 passed, 1 gate failed, 2 "
          "interrupted, ...)").set(run.get("exit_status", doc["gate"]["exit_code"]))
    gauge("jada_run_duration_seconds", "Duration of the run").set(run["duration"])
    gauge("jada_run_finished_timestamp_seconds", "When the run finished (Unix time)").set(
        _timestamp(run["finished"]))
    gauge("jada_targets_checked", "Targets the run checked").set(len(run["targets"]))
    gauge("jada_targets_unreachable", "Targets whose host controls all errored with "
          "unreachable").set(len(doc["unreachable"]))
    disc = run.get("discovery")
    if disc is not None:
        inst = gauge("jada_discovery_instances", "Matching Lightsail instances per region",
                     ("region",))
        errs = gauge("jada_discovery_region_errors", "1 when the region could not be read",
                     ("region",))
        for region, got in sorted(disc["regions"].items()):
            inst.labels(region).set(len(got.get("instances", [])))
            errs.labels(region).set(int("error" in got))
        gauge("jada_discovery_targets", "Targets discovery added").set(
            len(disc.get("targets", [])))
        gauge("jada_discovery_no_public_ip", "Matching instances without a public IP").set(
            len(disc.get("no_public_ip", [])))
        gauge("jada_discovery_failed", "1 when GetRegions failed").set(int("error" in disc))
    Info("jada_checks", "The suite that produced these metrics", registry=reg).info(
        {"version": doc["suite_version"]})
    return reg


def render(doc: dict[str, Any]) -> str:
    from prometheus_client import generate_latest

    return generate_latest(registry(doc)).decode("utf-8")
