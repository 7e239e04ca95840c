"""The metrics file is read by the real consumers it is written for: node_exporter's
textfile collector and the Prometheus Pushgateway (Debian's prometheus-node-exporter
1.5 and prometheus-pushgateway 1.5, installed by ``make install``), each started on a
free loopback port for the test and scraped back; both validate the exposition format
themselves, and the Pushgateway refuses what it cannot take (timestamps, bad lines).

The metrics come from a real suite run (closed SSH port: every host control errors).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.test_reporting_e2e import ONLY_UNIT, profile, suite

NODE_EXPORTER = "prometheus-node-exporter"
PUSHGATEWAY = "prometheus-pushgateway"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as res:  # noqa: S310 (loopback only)
        return res.read().decode()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start a daemon (argv with {port}) on a free loopback port; stop it afterwards."""
    procs: list[subprocess.Popen] = []

    def start(*argv: str) -> str:
        assert shutil.which(argv[0]), f"{argv[0]} is not installed: `make install` installs it"
        port = free_port()
        with (tmp_path / f"{argv[0]}.log").open("w") as log:
            procs.append(subprocess.Popen([a.format(port=port) for a in argv], stdout=log,
                                          stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                scrape(url + "/metrics")
                return url
            except OSError:
                assert procs[-1].poll() is None, (tmp_path / f"{argv[0]}.log").read_text()
                assert time.monotonic() < deadline, f"{argv[0]} did not answer on {url}"
                time.sleep(0.1)

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


def outcome_samples(text: str, **labels: str) -> dict[tuple[str, str], str]:
    return {(s.labels["control"], s.labels["target"]): s.labels["outcome"]
            for f in text_string_to_metric_families(text) if f.name == "jada_check_outcome"
            for s in f.samples if all(s.labels.get(k) == v for k, v in labels.items())}


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
