"""Host controls against real sandbox hosts: each fault host breaks exactly one control.

Every ``sandbox/hosts/<control>-*`` directory inherits ``compliant`` and adds one fault;
the suite must report that control as failed, naming what it observed, what it expected
and where the value came from, while every other host-side control still passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jada_checks.controls import catalogue
from tests.sandbox_harness import Run, SandboxHarness

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.sandbox_hosts("compliant", "fd-*", "lim-*", "net-*", "unit-*"),
]

# host -> (control, words the message must contain)
FAULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unit-02-no-restart": ("JADA-UNIT-02", ("Restart=no",)),
    "unit-03-root": ("JADA-UNIT-03", ("User=root", "uid 0")),
    "unit-04-emfile": ("JADA-UNIT-04", ("Too many open files",)),
    "unit-05-exposed": ("JADA-UNIT-05", ("> 9.6",)),
    "fd-01-default-limit": ("JADA-FD-01", ("soft 1024 < 16384", "/proc/",
                                           "no LimitNOFILE in the unit")),
    "fd-02-near-limit": ("JADA-FD-02", ("python3", "of 16384", "> 80%")),
    "fd-03-above-nr-open": ("JADA-FD-03", ("jada-agent.service.d/70-fault.conf:3: 2000000",
                                           "above fs.nr_open 1048576")),
    "lim-01-low-session": ("JADA-LIM-01", ("nofile soft for root is 4096 < 16384",
                                           "/etc/security/limits.d/70-fault.conf:2")),
    "lim-02-above-nr-open": ("JADA-LIM-02", ("/etc/security/limits.d/70-fault.conf:2",
                                             "2000000 > fs.nr_open 1048576")),
    "lim-03-few-tasks": ("JADA-LIM-03", ("TasksMax=64 < 512",)),
    "net-01-low-somaxconn": ("JADA-NET-01", ("net.core.somaxconn is 2048 < 4096",)),
    "net-02-runtime-only": ("JADA-NET-02", ("16384 at runtime but 8192 after reboot",
                                            "/etc/sysctl.d/60-jada.conf:2", "lost on reboot")),
    "net-03-low-syn-backlog": ("JADA-NET-03", ("net.ipv4.tcp_max_syn_backlog is 512 < 4096",)),
    "net-04-small-backlog": ("JADA-NET-04", ("backlog 128 < 4096", "Send-Q")),
}
HOST_CONTROLS = sorted(c.id for c in catalogue() if c.side == "host")


@pytest.fixture(scope="module")
def runs(sandbox: SandboxHarness) -> dict[str, Run]:
    """One run of the suite over compliant and every fault host (-n 2); host -> Run."""
    hosts = ["compliant", *sorted(FAULTS)]
    run = sandbox.run_suite(hosts, "-n", "2", timeout=600)
    return {h: run for h in hosts}


def outcomes(run: Run, host: str) -> dict[str, str]:
    return {c: run.record(c, host)["outcome"] for c in HOST_CONTROLS}


def not_passed(run: Run, host: str, but: str = "") -> dict[str, Any]:
    return {c: (o, run.record(c, host)["message"]) for c, o in outcomes(run, host).items()
            if c != but and o != "pass"}


def test_compliant_passes_every_host_control(runs: dict[str, Run]) -> None:
    assert not_passed(runs["compliant"], "compliant") == {}


@pytest.mark.parametrize("host", sorted(FAULTS))
def test_fault_host_fails_exactly_its_control(runs: dict[str, Run], host: str) -> None:
    control, words = FAULTS[host]
    rec = runs[host].record(control, host)
    assert rec["outcome"] == "fail", rec["message"]
    for word in words:
        assert word in rec["message"], (word, rec["message"])
    assert rec["observed"] and rec["expected"] and rec["source"], rec
    assert not_passed(runs[host], host, but=control) == {}, f"{host} should break only {control}"


def test_every_fault_dir_is_covered() -> None:
    here = Path(__file__).resolve().parent.parent / "sandbox" / "hosts"
    mine = {d.name for d in here.iterdir() if d.name.split("-")[0] in ("unit", "fd", "lim", "net")}
    assert mine == set(FAULTS)
