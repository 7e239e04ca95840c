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

import time
from pathlib import Path

import pytest

from jada_checks.sandbox.machines import (
    Machine,
    SandboxError,
    make_own_cgroups,
    own_cgroup_dirs,
    remove_own_cgroups,
)
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
        assert mine in init and init.endswith("/init.scope"), (host, init)
        # recorded, so any process (jada-sandbox down) removes them
        assert m.cgroups and all(c.endswith(mine.rstrip("/")) for c in m.cgroups), m
        # inside, the host's unit holds no other host's child cgroups (drifted's workers)
        kids = sandbox.ssh(host, "ls /sys/fs/cgroup/systemd/system.slice/"
                                 "jada-agent.service").split()
        assert len([k for k in kids if k.startswith("workers-")]) <= 1, (host, kids)


def test_a_host_s_cgroups_are_below_its_starter_s_and_named_after_it(
        tmp_path: Path) -> None:
    m = Machine("h1", 0, str(tmp_path / "selftest-1" / "hosts" / "h1"))
    dirs = own_cgroup_dirs(m, "1:name=systemd:/ci/job.scope\n0::/ci/job.scope\n")
    assert dirs, "this machine has a tracking hierarchy"
    for d in dirs:
        assert str(d).endswith("/ci/job.scope/jada-sandbox/selftest-1/h1"), d
    root = own_cgroup_dirs(m, "1:name=systemd:/\n0::/\n")
    assert all(str(d).endswith("/cgroup/systemd/jada-sandbox/selftest-1/h1")
               or str(d).endswith("/cgroup/unified/jada-sandbox/selftest-1/h1")
               or str(d) == "/sys/fs/cgroup/jada-sandbox/selftest-1/h1" for d in root), root


def test_a_leftover_cgroup_with_processes_is_refused(tmp_path: Path) -> None:
    """A crashed runner's host still running in the cgroup a new host would get: the new
    host must not share it (the very sharing these trees end)."""
    import subprocess

    m = Machine("leftover-h1", 0, str(tmp_path / "jada-selftest-leftover" / "hosts" / "h1"))
    dirs = own_cgroup_dirs(m)
    top = dirs[0]
    top.mkdir(parents=True)
    sleeper = subprocess.Popen(["sh", "-c", f"echo $$ > {top}/cgroup.procs; exec sleep 30"])
    try:
        for _ in range(100):
            if (top / "cgroup.procs").read_text().strip():
                break
            time.sleep(0.02)
        with pytest.raises(SandboxError, match="still holds processes of an earlier sandbox"):
            make_own_cgroups(m)
    finally:
        sleeper.kill()
        sleeper.wait()
        m.cgroups = [str(d) for d in dirs]
        remove_own_cgroups([m])
    assert not top.exists()
