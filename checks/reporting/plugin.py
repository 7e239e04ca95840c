"""Pytest plugin (entry point ``jada_reports``): collects outcome records, writes reports.

Records arrive on each test report as ``report.jada`` (set by ``checks.plugin``); they are
plain JSON-able dicts, so they survive xdist's transport from workers to the controller.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import checks

RECORDS_KEY = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jada", "jada-checks")
    group.addoption("--report-json", dest="jada_report_json", metavar="PATH",
                    help="write the JSON report (schemas/report.schema.json)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RECORDS_KEY] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    rec = getattr(report, "jada", None)
    if rec is not None:
        config = _CONFIG[0]
        config.stash[RECORDS_KEY].append(rec)


_CONFIG: list[pytest.Config] = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG[:] = [session.config]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # xdist worker: the controller writes the reports
    path = session.config.getoption("jada_report_json", None)
    if path:
        records = sorted(session.config.stash[RECORDS_KEY],
                         key=lambda r: (r["target"], r["control"]))
        doc = {"report_version": 1, "suite_version": checks.__version__, "records": records}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(doc, indent=2) + "\n")
