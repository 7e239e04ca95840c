"""``-n 2`` with the user's own Testinfra tests on real hosts: one login per target in all,
counted by each host's sshd, and the same records as in one process.

Both runs (with and without ``-n 2``) check ``compliant`` and ``drifted`` with the controls
and a module of Testinfra calls over ``host``; sshd's journal counts the logins it
accepted around each run (the count itself is one more login, subtracted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox_harness import Run, SandboxHarness

pytestmark = [pytest.mark.sandbox, pytest.mark.sandbox_hosts("compliant", "drifted")]

HOSTS = ["compliant", "drifted"]
COUNT = "journalctl -q -u ssh.service -o cat | grep -c '^Accepted' || true"
CHECKS = '''\
import pytest


def test_files_and_service(host):
    assert host.file("/etc/passwd").user == "root"
    assert host.file("/etc/systemd/system/jada-agent.service").exists
    assert host.service("jada-agent.service").is_running
    assert host.socket("tcp://0.0.0.0:22").is_listening


@pytest.mark.jada(id="ACME-BACKLOG-01", severity="high")
def test_backlog(host):
    assert host.sysctl("net.core.somaxconn") >= 4096, "somaxconn below 4096"


def test_commands(host, target):
    assert host.check_output("hostname") == target.name
    assert host.run("id -u").stdout.strip() == "0"
'''


def logins(sandbox: SandboxHarness) -> dict[str, int]:
    return {h: int(sandbox.ssh(h, COUNT)) for h in HOSTS}


def counted_run(sandbox: SandboxHarness, tmp_path: Path, *args: str
                ) -> tuple[Run, dict[str, Any], dict[str, int]]:
    """The suite with the module, from the checkout; its stats and sshd's logins per host."""
    module = tmp_path / "test_own_xdist.py"
    module.write_text(CHECKS)
    stats = tmp_path / f"stats{len(args)}.json"
    before = logins(sandbox)
    run = sandbox.run_suite(HOSTS, "--jada-stats-json", str(stats), "-v", str(module), *args)
    after = logins(sandbox)
    return run, json.loads(stats.read_text()), {h: after[h] - before[h] - 1 for h in HOSTS}


def outcomes(run: Run) -> list[tuple[str, ...]]:
    return sorted((r["control"].rsplit("::", 1)[-1], r["target"], r["severity"], r["outcome"])
                  for r in run.records)


def test_one_login_per_target_with_and_without_n_2(sandbox: SandboxHarness,
                                                  tmp_path: Path) -> None:
    # the module makes 14 Testinfra calls, below the default break-even: split it anyway
    split, split_stats, split_logins = counted_run(sandbox, tmp_path, "-n", "2", "-o",
                                                   "jada_calls_per_worker=0")
    assert ("-n 2: every test of a target runs on one worker, which logs in to its own "
            "targets only (one login per target): gw0: compliant; gw1: drifted"
            ) in split.output, split.output[-3000:]
    assert split_logins == {"compliant": 1, "drifted": 1}, split.output[-3000:]
    workers = {w["worker"]: w["targets"] for w in split_stats["workers"]}
    assert workers["main"] == {}  # the controller logged in to nothing
    assert set(workers["gw0"]) == {"compliant"} and set(workers["gw1"]) == {"drifted"}
    user = {(r["control"], r["target"]): r for r in split.records
            if not r["control"].startswith("JADA-")}
    assert len(user) == 6, split.output[-3000:]
    assert {k: r["outcome"] for k, r in user.items() if r["outcome"] != "pass"} == {
        ("ACME-BACKLOG-01", "drifted"): "fail"}, split.output[-3000:]
    assert "somaxconn below 4096" in user[("ACME-BACKLOG-01", "drifted")]["message"]

    alone, _, alone_logins = counted_run(sandbox, tmp_path, "-p", "no:xdist")
    assert alone_logins == {"compliant": 1, "drifted": 1}, alone.output[-3000:]
    assert outcomes(alone) == outcomes(split)
    assert split.exitcode == alone.exitcode == 1


MANY = """\
import pytest


@pytest.mark.parametrize("n", [{cases}])
def test_true(host, n):
    assert host.run("true").rc == 0
"""


def test_n_2_starts_workers_only_where_they_pay(sandbox: SandboxHarness, tmp_path: Path
                                                ) -> None:
    """By the default break-even: the module above (14 calls on 2 hosts) runs in this
    process with -n 2, logging in early as without -n; 50 calls per host (100 in all)
    get two workers. Each run says so at the end, and sshd counts one login per host."""
    small, stats, small_logins = counted_run(sandbox, tmp_path, "-n", "2")
    assert ("jada-checks: -n 2 ignored: your checks make about 14 Testinfra calls on 2 "
            "targets, fewer than the 100 at which two workers pay for their start-up "
            "(jada_calls_per_worker = 50); this process runs them") in small.output, \
        small.output[-3000:]
    assert "bringing up nodes" not in small.output and "[gw0]" not in small.output
    assert [w["worker"] for w in stats["workers"]] == ["main"]
    assert stats["xdist"]["workers"] == 0
    assert small_logins == {"compliant": 1, "drifted": 1}

    module = tmp_path / "many" / "test_many.py"
    module.parent.mkdir()
    module.write_text(MANY.format(cases=", ".join(map(str, range(50)))))
    stats_file = tmp_path / "many.json"
    before = logins(sandbox)
    large = sandbox.run_suite(HOSTS, "--jada-stats-json", str(stats_file), str(module),
                              "-n", "2")
    after = logins(sandbox)
    assert ("jada-checks: -n 2: 2 workers; your checks make at least 100 Testinfra calls "
            "on 2 targets") in large.output, large.output[-3000:]
    stats = json.loads(stats_file.read_text())
    assert sorted(w["worker"] for w in stats["workers"]) == ["gw0", "gw1", "main"]
    assert {h: after[h] - before[h] - 1 for h in HOSTS} == {"compliant": 1, "drifted": 1}
    user = [r for r in large.records if not r["control"].startswith("JADA-")]
    assert len(user) == 100 and {r["outcome"] for r in user} == {"pass"}
