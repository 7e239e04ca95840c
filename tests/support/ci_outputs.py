"""Shared by the self-tests of the CI outputs: the official SARIF 2.1.0 schema (vendored,
tests/data/sarif-2.1.0.SOURCE.md), and the real readers of the metrics file
(node_exporter's textfile collector and the Pushgateway, Debian packages that
``make install`` installs), each started on a free loopback port for a test.

(No tests here.)
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

SARIF_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "data" /
                           "sarif-2.1.0.json").read_text())
NODE_EXPORTER = "prometheus-node-exporter"
PUSHGATEWAY = "prometheus-pushgateway"


def sarif_errors(log: dict[str, Any]) -> list[str]:
    """Every way ``log`` departs from the SARIF 2.1.0 schema (empty when valid)."""
    v = jsonschema.Draft7Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(log)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as res:  # noqa: S310 (loopback only)
        return str(res.read().decode())


def outcome_samples(text: str, **labels: str) -> dict[tuple[str, str], str]:
    """(control, target) -> outcome of the ``jada_check_outcome`` samples with ``labels``."""
    return {(s.labels["control"], s.labels["target"]): s.labels["outcome"]
            for f in text_string_to_metric_families(text) if f.name == "jada_check_outcome"
            for s in f.samples if all(s.labels.get(k) == v for k, v in labels.items())}


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start a daemon (argv with {port}) on a free loopback port, return its base URL once
    it answers; stopped at the end of the test."""
    procs: list[subprocess.Popen[bytes]] = []

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
