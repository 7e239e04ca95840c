"""A fleet: 24 sandbox hosts in two regions, found by Lightsail discovery, none listed.

This module boots its own sandbox (``fleet-<pid>``, 12 hosts from ``compliant`` in
us-east-1 and 12 from ``compliant-eu-west-2``), so no other module pays for 24 boots.
It asserts counts, not times: logins and commands per host, GetInstances pages, targets.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from jada_checks.sandbox.sandbox import Sandbox
from tests.support.sandbox_harness import HOSTS_DIR, Run, SandboxHarness

pytestmark = pytest.mark.sandbox

EAST = [f"fl-{i:02d}" for i in range(1, 13)]
WEST = [f"fl-{i:02d}" for i in range(13, 25)]
# --sync first: journald may not have written sshd's latest "Accepted" lines yet (this
# query's own among them), and a loaded run once counted one login short.
COUNT = ("journalctl --sync; journalctl -q -u ssh.service -o cat | grep -c '^Accepted' "
         "|| true")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHarness]:
    sb = Sandbox(f"fleet-{os.getpid()}")
    work = tmp_path_factory.mktemp("fleet")
    hosts = {h: str(HOSTS_DIR / "compliant") for h in EAST}
    hosts |= {h: str(HOSTS_DIR / "compliant-eu-west-2") for h in WEST}
    try:
        sb.up(hosts, work / "listed.yaml")
        yield SandboxHarness(sb, work)
    finally:
        sb.down()


def discovery_profile(fleet: SandboxHarness, path: Path, **lightsail: Any) -> Path:
    """A profile with no targets at all: only targets_from, and the sandbox's settings."""
    listed = yaml.safe_load(fleet.sandbox.write_profile(EAST[:1], path).read_text())
    ssh = {k: v for k, v in listed["targets"][0]["ssh"].items() if k != "host"}
    spec = {"tags": {"app": "jada-agent"}, "ssh": ssh, **lightsail}
    path.write_text(yaml.safe_dump({"version": 1, "aws": listed["aws"],
                                    "expect": listed["expect"],
                                    "targets_from": {"lightsail": spec}}))
    return path


def endpoint(fleet: SandboxHarness, method: str, path: str, doc: Any = None) -> Any:
    url = fleet.sandbox.endpoint_url
    assert url
    data = None if doc is None else json.dumps(doc).encode()
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data, method=method),
                                timeout=10) as resp:
        return json.loads(resp.read())


def logins(fleet: SandboxHarness, hosts: list[str]) -> dict[str, int]:
    with ThreadPoolExecutor(8) as pool:
        counts = pool.map(lambda h: int(fleet.sandbox.ssh(h, COUNT)), hosts)
    return dict(zip(hosts, counts, strict=True))


def per_host(run: Run, stats: Path, before: dict[str, int], after: dict[str, int]) -> None:
    """One login (sshd's own count; the -1 is the counting query) and one command each."""
    totals = json.loads(stats.read_text())["targets"]
    for h in before:
        assert totals[h] == {"connections": 1, "commands": 1}, (h, totals[h])
        assert after[h] - before[h] - 1 == 1, h


def test_24_hosts_discovered_in_two_regions_none_listed(fleet: SandboxHarness,
                                                       tmp_path: Path) -> None:
    """No regions named: GetRegions, then GetInstances (two pages where 12 live)."""
    profile = discovery_profile(fleet, tmp_path / "p.yaml", overrides={
        "fl-24": {"expect": {"somaxconn_min": 1_000_000}}})
    stats = tmp_path / "stats.json"
    endpoint(fleet, "DELETE", "/_jada/calls")
    before = logins(fleet, EAST + WEST)
    # -v cancels the harness's -q: the header line is what is asserted
    run = fleet.run_suite([], "-v", "--jada-stats-json", str(stats), profile=profile)
    after = logins(fleet, EAST + WEST)
    calls = endpoint(fleet, "GET", "/_jada/calls")
    assert sorted(run.report["run"]["targets"]) == EAST + WEST, run.output[-2000:]
    regions = run.report["run"]["discovery"]["regions"]
    assert regions["us-east-1"] == {"instances": EAST}
    assert regions["eu-west-2"] == {"instances": WEST}
    assert run.report["run"]["discovery"]["targets"] == EAST + WEST  # none listed by hand
    assert "listed" not in run.report["run"]["discovery"]
    assert all(r == {"instances": []} for k, r in regions.items()
               if k not in ("us-east-1", "eu-west-2"))
    assert "discovered from Lightsail (app=jada-agent): " in run.output
    assert "us-east-1: 12" in run.output and "eu-west-2: 12" in run.output
    assert "24 targets: fl-01" in run.output
    assert calls["GetRegions"] == 1
    assert calls["GetInstances"] == len(regions) + 2  # a second page in each of the two
    per_host(run, stats, before, after)
    bad = {(r["target"], r["control"]): r["message"] for r in run.records
           if r["outcome"] not in ("pass", "skipped")}
    # The per-name override reached fl-24, and only fl-24.
    assert list(bad) == [("fl-24", "JADA-NET-01")], bad
    assert run.record("JADA-LS-01", "fl-13")["outcome"] == "pass"
    assert run.exitcode == 1 and "gate FAILED" in run.output


def test_a_region_that_errors_is_reported_and_the_others_run(fleet: SandboxHarness,
                                                             tmp_path: Path) -> None:
    profile = discovery_profile(fleet, tmp_path / "p.yaml",
                                regions=["us-east-1", "eu-west-2"])
    endpoint(fleet, "POST", "/_jada/faults", {"operation": "GetInstances",
                                              "fault": "access_denied", "region": "eu-west-2"})
    try:
        run = fleet.run_suite([], "-k", "UNIT-01", profile=profile)
    finally:
        endpoint(fleet, "DELETE", "/_jada/faults")
    disc = run.report["run"]["discovery"]["regions"]
    assert disc["us-east-1"] == {"instances": EAST}
    assert "lightsail:GetInstances" in disc["eu-west-2"]["error"], disc
    assert "eu-west-2: ERROR " in run.output and "lightsail:GetInstances" in run.output
    assert sorted(run.report["run"]["targets"]) == EAST
    assert run.report["run"]["discovery"]["targets"] == EAST
    assert {r["outcome"] for r in run.records} == {"pass"}, run.output[-2000:]
    gate = run.report["gate"]
    assert not gate["passed"] and gate["undiscovered"][0].startswith("eu-west-2: ")
    assert "Lightsail discovery failed (eu-west-2: " in run.output
    assert run.exitcode == 1


def test_with_n_2_and_8_hosts_each_host_sees_one_login_and_one_command(
        fleet: SandboxHarness, tmp_path: Path) -> None:
    hosts = EAST[:4] + WEST[:4]
    stats = tmp_path / "stats.json"
    before = logins(fleet, hosts)
    run = fleet.run_suite(hosts, "-v", "-n", "2", "--jada-stats-json", str(stats))
    after = logins(fleet, hosts)
    assert "-n 2 ignored: every target is checked concurrently in this process" in run.output
    assert {r["outcome"] for r in run.records} == {"pass"}, run.output[-2000:]
    assert len({r["target"] for r in run.records}) == 8
    per_host(run, stats, before, after)
