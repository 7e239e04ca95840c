"""The metrics file is read by the real consumers it is written for: node_exporter's
textfile collector and the Prometheus Pushgateway (Debian's prometheus-node-exporter
1.5 and prometheus-pushgateway 1.5, installed by ``make install``), each started on a
free loopback port for the test and scraped back; both validate the exposition format
themselves, and the Pushgateway refuses what it cannot take (timestamps, bad lines).

The metrics come from a real suite run (closed SSH port: every host control errors).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.reporting.test_e2e import ONLY_UNIT, profile, suite
from tests.support.ci_outputs import (
    NODE_EXPORTER,
    PUSHGATEWAY,
    daemon,
    outcome_samples,
    scrape,
)

__all__ = ["daemon"]  # a fixture, used by name


def test_node_exporter_textfile_collector_reads_the_metrics(
        tmp_path: Path, daemon: Callable[..., str]) -> None:
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    r = suite(tmp_path, profile(tmp_path), "--jada-report-metrics",
              str(textfile / "jada_checks.prom"))
    assert r.code == 1, r.out
    url = daemon(NODE_EXPORTER, "--web.listen-address=127.0.0.1:{port}",
                 "--collector.disable-defaults", "--collector.textfile",
                 f"--collector.textfile.directory={textfile}")
    text = scrape(url + "/metrics")
    assert 'node_textfile_scrape_error 0' in text, text[-2000:]
    assert outcome_samples(text) == {(x["control"], x["target"]): x["outcome"]
                                     for x in r.report["records"]}
    assert "jada_run_duration_seconds" in text and "jada_gate_passed 0" in text


def test_pushgateway_takes_the_metrics_and_a_new_run_replaces_them(
        tmp_path: Path, daemon: Callable[..., str]) -> None:
    url = daemon(PUSHGATEWAY, "--web.listen-address=127.0.0.1:{port}")
    prom = tmp_path / "metrics.prom"

    def push() -> None:  # what the nightly templates do: curl -X PUT --data-binary @file
        req = urllib.request.Request(f"{url}/metrics/job/jada_checks_nightly",
                                     data=prom.read_bytes(), method="PUT")
        with urllib.request.urlopen(req, timeout=5) as res:  # noqa: S310 (loopback only)
            assert res.status in (200, 202)

    first = suite(tmp_path, profile(tmp_path), "--jada-report-metrics", str(prom))
    push()
    got = outcome_samples(scrape(url + "/metrics"), job="jada_checks_nightly")
    assert got == {(x["control"], x["target"]): x["outcome"] for x in first.report["records"]}
    # the next run checks one control: PUT replaces the whole group, no stale series left
    again = suite(tmp_path, profile(tmp_path), "--jada-report-metrics", str(prom), *ONLY_UNIT)
    push()
    got = outcome_samples(scrape(url + "/metrics"), job="jada_checks_nightly")
    assert got == {(x["control"], x["target"]): x["outcome"] for x in again.report["records"]}
    assert len(got) == 2
