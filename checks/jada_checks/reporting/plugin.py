"""Pytest plugin (entry point ``jada_reports``): reports, gate, waivers, drift, convergence.

Like :mod:`jada_checks.plugin` it loads in every pytest run wherever the suite is
installed, so it only registers its ``--jada-*`` options and ini keys and checks them;
the reporting itself (:mod:`jada_checks.reporting.run`, with jsonschema and YAML behind it)
is imported only in a profile run.
"""

from __future__ import annotations

import time

import pytest

from jada_checks.options import ENV_PROFILE, REPORTING, SPECS, add_options, resolve, setting
from jada_checks.run.duration import UNIT_WORD, parse_duration
from jada_checks.stash import DEADLINE_KEY, PROFILE_KEY, RETRY_KEY

PROFILE_ONLY = ("jada_report_json", "jada_report_md", "jada_report_html", "jada_report_sarif",
                "jada_report_codequality", "jada_report_metrics", "jada_waivers",
                "jada_baseline", "jada_retry_timeout", "jada_fail_on_drift")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser, REPORTING)


def pytest_configure(config: pytest.Config) -> None:
    resolve(config, REPORTING)
    profile = config.stash.get(PROFILE_KEY, None)
    if profile is None:
        # Given on the command line without a profile: a mistake. From an ini file: the
        # project's settings for its compliance runs, not for its ordinary test runs.
        given = [n for n in PROFILE_ONLY if setting(config, n).source == "option"]
        if given:
            raise pytest.UsageError(f"{SPECS[given[0]].flag} needs a profile (--jada-profile, "
                                    f"${ENV_PROFILE} or ini jada_profile)")
        return
    check_retry(config)
    if config.getoption("jada_fail_on_drift") and not config.getoption("jada_baseline"):
        raise pytest.UsageError(f"{setting(config, 'jada_fail_on_drift').origin} needs "
                                "--jada-baseline (an earlier JSON report to compare with); "
                                "without one there is no drift to fail on")
    if hasattr(config, "workerinput"):
        return  # xdist worker: the controller collects, decides and writes
    from jada_checks.inputs import InputError
    from jada_checks.reporting.run import JunitNames, ReportRun

    try:
        run = ReportRun(config, profile)
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(run, "jada-report-run")
    config.pluginmanager.register(JunitNames(config), "jada-junit-names")


def check_retry(config: pytest.Config) -> None:
    """Parse --jada-retry-timeout before anything runs. An unquoted ``2 mins`` reaches us
    as the value ``2`` and a stray argument ``mins`` (which pytest would later report as a
    missing file, after the run): name that mistake instead."""
    retry = config.getoption("jada_retry_timeout")
    if retry is None:
        return
    origin = setting(config, "jada_retry_timeout").origin
    stray = [a for a in config.args if UNIT_WORD.match(a)
             and not (config.invocation_params.dir / a).exists()]
    if stray and setting(config, "jada_retry_timeout").source == "option":
        raise pytest.UsageError(f"{origin}: {retry!r} is followed by a stray argument "
                                f"{stray[0]!r}; quote the whole duration "
                                f"(--jada-retry-timeout '{retry} {stray[0]}') or write it "
                                "without a space (e.g. 2m)")
    try:
        config.stash[RETRY_KEY] = parse_duration(retry)
    except ValueError as exc:
        raise pytest.UsageError(f"{origin}: {exc}") from None


def pytest_sessionstart(session: pytest.Session) -> None:
    seconds = session.config.stash.get(RETRY_KEY, None)
    if seconds is not None:
        session.config.stash[DEADLINE_KEY] = time.monotonic() + seconds
