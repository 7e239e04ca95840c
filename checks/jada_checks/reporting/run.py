"""The reports of a profile run: records in, JSON/Markdown/HTML and the gate's exit code out.

Registered by :mod:`jada_checks.reporting.plugin` on the controller (or the only process)
of a profile run. Records arrive on each test report as ``report.jada`` (set by
:mod:`jada_checks.run.profile_run`); they are plain JSON-able dicts, so they survive xdist's
transport from workers to the controller. :class:`ReportRun` collects them, and at
session finish builds the JSON document, renders every report from it and decides the
exit status; the terminal summary is printed from the same document, so all outputs agree.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any

import pytest

import jada_checks
from jada_checks.inputs import InputError
from jada_checks.profile import Profile
from jada_checks.reporting import document, drift, outputs, waivers
from jada_checks.reporting.gate import (
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_SELECTED,
    EXIT_USAGE,
)
from jada_checks.reporting.terminal import write_summary
from jada_checks.run.shard import selected
from jada_checks.stash import RETRY_KEY, STORE_KEY


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def load_baseline(path: str, profile: Profile) -> dict[str, Any]:
    """The baseline report, refused (InputError) if it is of another profile or interrupted."""
    base = document.read(path, "baseline")
    if base["run"]["profile"]["fingerprint"] != document.fingerprint(profile):
        raise InputError(f"baseline {path}: /run/profile/fingerprint: produced from a "
                         "different profile (target names, sides or expectations differ); "
                         "run once without --jada-baseline to make a new one")
    if base["run"]["interrupted"]:
        raise InputError(f"baseline {path}: /run/interrupted: the baseline run was "
                         "interrupted; its results are partial")
    return base


OWN_AREA = "own"  # the area of your own checks (run.own_records)


def user_id(nodeid: str) -> str:
    """``JADA-CFG-01[drifted]`` for xdist's ``JADA-CFG-01[drifted]@drifted``: loadgroup
    appends the group (our target) to every id it schedules; users, the terminal and JUnit
    see the id without it. Rewritten on the controller only: the worker asserts its own
    ids, and the scheduler tracks items by index, not by id."""
    head, sep, group = nodeid.rpartition("@")
    if sep and head.endswith(f"[{group}]"):
        return head
    return nodeid


class JunitNames:
    """JUnit ``classname`` = the control's area (``unit``, ``net``, ``ls``...) instead of
    empty (our ids have no ``::``). junitxml keeps attributes set on its node reporter
    across phases, so setting it once per test after junitxml opened it is enough."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        rec = getattr(report, "jada", None)
        if xml is None or report.when == "teardown":
            return
        area: Any = rec["area"] if rec else next(
            (v for k, v in report.user_properties if k == "area"), None)
        if area and area != OWN_AREA:  # your own checks keep pytest's (their module)
            xml.node_reporter(report).attrs["classname"] = area


class ReportRun:
    """The records of one session, and everything derived from them at its end."""

    def __init__(self, config: pytest.Config, profile: Profile) -> None:
        self.config = config
        self.profile = profile
        self.started = utc_now()
        self.clock = time.monotonic()
        self.today = waivers.today_utc()
        opt = config.getoption
        self.shard: str | None = opt("jada_shard", None)
        self.targets = selected([t.name for t in profile.targets], self.shard, str)
        self.waivers_path: str | None = opt("jada_waivers")
        self.waivers = waivers.load_waivers(self.waivers_path) if self.waivers_path else []
        self.baseline_path: str | None = opt("jada_baseline")
        self.baseline = (load_baseline(self.baseline_path, profile)
                         if self.baseline_path else None)
        self.records: dict[str, dict[str, Any]] = {}
        self.failed: set[str] = set()
        self.doc: dict[str, Any] | None = None
        self.written: list[str] = []

    @pytest.hookimpl(tryfirst=True)  # before junitxml reads the teardown report's properties
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        report.nodeid = user_id(report.nodeid)
        rec = getattr(report, "jada", None)
        if rec is not None:
            rec = dict(rec)
            rec.setdefault("attempts", 1)
            rec["waiver"] = waivers.select(rec, self.waivers, self.today)
            self.records[report.nodeid] = rec
        elif report.failed:
            self.failed.add(report.nodeid)
        known = self.records.get(report.nodeid)
        if report.when == "teardown" and known and known["waiver"]:
            w = known["waiver"]
            value = (f"until {w['expires']}: {w['justification']}" if w["status"] == "applied"
                     else f"EXPIRED {w['expires']}")
            report.user_properties.append(("waiver", value))

    def target_lines(self) -> dict[str, int]:
        lines = {name: self.profile.line_of(name) for name in self.targets}
        return {name: line for name, line in lines.items() if line}

    def build(self, exitstatus: int) -> dict[str, Any]:
        records = list(self.records.values())
        section = waivers.apply(records, self.waivers, self.today, self.waivers_path)
        drift_section = (drift.compute(self.baseline, records, self.targets, self.baseline_path)
                         if self.baseline is not None and self.baseline_path else None)
        opt = self.config.getoption
        retry = self.config.stash.get(RETRY_KEY, None)
        run = {
            "started": self.started, "finished": utc_now(),
            "duration": round(time.monotonic() - self.clock, 3),
            "profile": {"path": str(self.profile.path), "sha256": self.profile.digest,
                        "fingerprint": document.fingerprint(self.profile),
                        "target_lines": self.target_lines()},
            "targets": self.targets,
            "options": {"fail_on": opt("jada_fail_on"),
                        "fail_on_drift": bool(opt("jada_fail_on_drift")),
                        "retry_timeout": retry, "shard": self.shard,
                        "waivers": self.waivers_path, "baseline": self.baseline_path},
            "interrupted": exitstatus == EXIT_INTERRUPTED,
            "unrecorded": len(self.failed - set(self.records)),
        }
        if self.profile.discovery is not None:
            run["discovery"] = self.profile.discovery
        store = self.config.stash.get(STORE_KEY, None)
        if store is not None:  # fresh logins after a reset before authentication (MaxStartups)
            run["ssh_retries"] = {name: c.counters.retries
                                  for name, c in sorted(store.connections.items())
                                  if c.counters.retries}
        return document.finish({
            "report_version": document.REPORT_VERSION, "suite_version": jada_checks.__version__,
            "run": run, "records": records, "waivers": section, "drift": drift_section})

    def write(self, doc: dict[str, Any]) -> None:
        opt = self.config.getoption
        if opt("jada_report_json"):
            document.write(doc, opt("jada_report_json"))
            self.written.append(opt("jada_report_json"))
        for fmt in outputs.RENDERERS:  # a renderer is imported only when its report is asked for
            path = opt(f"jada_report_{fmt}")
            if path:
                outputs.write(doc, fmt, path)
                self.written.append(path)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # session.exitstatus: a plugin's earlier sessionfinish may have set it (the usage
        # problems of the user's checks that xdist workers found: run.own_records)
        if int(session.exitstatus) == EXIT_USAGE:
            exitstatus = EXIT_USAGE
        self.doc = doc = self.build(int(exitstatus))
        final = int(exitstatus)
        if exitstatus in (0, 1):
            final = doc["gate"]["exit_code"]
        elif exitstatus == EXIT_NOTHING_SELECTED and not self.targets:
            # An empty shard (more shards than targets) is fine; a discovery that failed
            # is a failed gate, and one that found nothing stays "nothing selected".
            if not doc["gate"]["passed"]:
                final = doc["gate"]["exit_code"]
            elif self.shard:
                final = 0
        doc["run"]["exit_status"] = final
        try:
            self.write(doc)
        except OSError as exc:
            sys.stderr.write(f"jada-checks: cannot write a report: {exc}\n")
            session.exitstatus = doc["run"]["exit_status"] = EXIT_INTERNAL_ERROR
            return
        session.exitstatus = final

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.doc is not None:
            write_summary(terminalreporter, self.doc, self.written)
