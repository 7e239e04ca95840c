"""Each sandbox host has a cgroup tree of its own, as a real machine does.

Before ``machines.own_cgroup_dirs`` every ``systemd-nspawn --keep-unit`` started in the
runner's cgroup, so every host's systemd built its units under the same directories of
the tracking hierarchy: a host saw the other hosts' processes and child cgroups in its
own units' cgroups (its JADA-FD-02 counted their worker cgroups), and stopping a unit
waited for the other hosts' processes, which it cannot kill ("Failed to kill control
group ...: Input/output error"): a root ``user@0.service`` stop then hung for its 120 s
timeout, and every root login of that host with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jada_checks.sandbox.machines import Machine, own_cgroup_dirs
from tests.support.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("compliant", "drifted")

def test_each_host_s_systemd_runs_in_a_cgroup_of_its_own(sandbox: SandboxHarness) -> None:
    machines = sandbox.sandbox.machines()
    for host in ("compliant", "drifted"):
        m = machines[host]
        # the host's init as this machine sees it (proc(7): hierarchy-ID:controllers:path)
        init = next(line.split(":", 2)[2] for line in
                    Path(f"/proc/{m.init_pid}/cgroup").read_text().splitlines()
                    if line.split(":", 2)[1] == "name=systemd")
        mine = f"/jada-sandbox/{sandbox.sandbox.name}/{host}/"
        assert init.startswith(mine) and init.endswith("/init.scope"), (host, init)
        # inside, the host's unit holds no other host's child cgroups (drifted's workers)
        kids = sandbox.ssh(host, "ls /sys/fs/cgroup/systemd/system.slice/"
                                 "jada-agent.service").split()
        assert len([k for k in kids if k.startswith("workers-")]) <= 1, (host, kids)


def test_a_host_s_cgroups_are_named_after_its_sandbox_and_name(tmp_path: Path) -> None:
    m = Machine("h1", 0, str(tmp_path / "selftest-1" / "hosts" / "h1"))
    for d in own_cgroup_dirs(m):
        assert d.parts[-3:] == ("jada-sandbox", "selftest-1", "h1"), d
