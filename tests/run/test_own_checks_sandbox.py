"""Your own checks on real hosts: the example project (examples/own-checks) against
``compliant`` and ``drifted``, beside the controls, over one login per target; an
unreachable target next to a reachable one; an exception in a Testinfra check.

The project is copied to a directory outside the checkout and run from there, with its
profile inside it, as a user runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.paths import REPO
from tests.support.sandbox_harness import SANDBOX_ENV, SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("compliant", "drifted")
EXAMPLE = REPO / "examples" / "own-checks"


def copy_example(sandbox: SandboxHarness, where: Path, hosts: list[str]) -> Path:
    project = where / "own-checks"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    sandbox.profile_for(hosts, project / "profile.yaml")
    return project


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--jada-profile", "profile.yaml", "--jada-report-json", "r.json",
                           *args], cwd=project, env={**env, **SANDBOX_ENV},
                          capture_output=True, text=True, timeout=300)


def accepted_logins(sandbox: SandboxHarness, host: str) -> int:
    """sshd's own count of accepted logins (this query's own included)."""
    out = sandbox.ssh(host, "journalctl -q -u ssh.service -o cat | grep -c '^Accepted' || true")
    return int(out.strip() or 0)


def own(report: dict, target: str) -> dict[str, str]:
    return {r["control"]: r["outcome"] for r in report["records"]
            if r["target"] == target and r["area"] == "own"}


def test_the_example_beside_the_controls_over_one_login_per_target(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    hosts = ["compliant", "drifted"]
    project = copy_example(sandbox, tmp_path, hosts)
    before = {h: accepted_logins(sandbox, h) for h in hosts}
    res = run(project, "--jada-stats-json", "stats.json")
    after = {h: accepted_logins(sandbox, h) for h in hosts}
    report = json.loads((project / "r.json").read_text())
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    expected = yaml.safe_load((EXAMPLE / "expected.yaml").read_text())
    ids = ["ACME-AGENT-01", "ACME-AGENT-02", "ACME-LS-01", "ACME-NET-01",
           "checks/test_agent_host.py::test_sshd_is_enabled"]
    for host in hosts:
        assert own(report, host) == {i: expected[host].get(i, "pass") for i in ids}, \
            res.stdout[-3000:]
    # the controls are checked as they always are, on the same login
    assert {r["outcome"] for r in report["records"] if r["target"] == "compliant"} == {"pass"}
    drifted = {r["control"]: r for r in report["records"] if r["target"] == "drifted"}
    assert drifted["JADA-UNIT-03"]["outcome"] == "fail"
    assert drifted["ACME-AGENT-02"]["message"].startswith(
        "jada-agent.service runs as root (no User=)"), drifted["ACME-AGENT-02"]
    assert drifted["ACME-AGENT-02"]["severity"] == "high"
    stats = json.loads((project / "stats.json").read_text())["targets"]
    for host in hosts:
        assert stats[host]["connections"] == 1, stats  # the fact script and 5 checks
        assert stats[host]["commands"] >= 6, stats
        assert after[host] - before[host] - 1 == 1, (before, after)  # counted by sshd


UNREACHABLE = '''\
import pytest


@pytest.mark.jada(id="ACME-ETC-01", severity="high")
def test_etc(host):
    assert host.file("/etc").is_directory


def test_parses_a_number(host):
    assert int(host.check_output("echo not-a-number")) > 0
'''


def test_an_unreachable_target_beside_a_reachable_one(sandbox: SandboxHarness,
                                                      tmp_path: Path) -> None:
    project = copy_example(sandbox, tmp_path, ["compliant"])
    (project / "checks" / "test_agent_host.py").unlink()
    (project / "checks" / "test_more.py").write_text(UNREACHABLE)
    data = yaml.safe_load((project / "profile.yaml").read_text())
    gone = {**data["targets"][0], "name": "gone", "ssh": {**data["targets"][0]["ssh"],
                                                         "host": "127.0.0.1", "port": 1}}
    gone.pop("lightsail", None)
    data["targets"].append(gone)
    (project / "profile.yaml").write_text(yaml.safe_dump(data))
    res = run(project, "-m", "area_own")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-3000:]
    report = json.loads((project / "r.json").read_text())
    recs = {(r["control"], r["target"]): r for r in report["records"]}
    cause = "unreachable: root@127.0.0.1:1: connection refused (sshd not running?)"
    for control in ("ACME-ETC-01", "checks/test_more.py::test_parses_a_number"):
        assert (recs[(control, "gone")]["outcome"], recs[(control, "gone")]["message"]) == (
            "error", cause)
    assert report["unreachable"] == [{"target": "gone", "reason": cause, "controls": 2}]
    assert out.count(f"UNREACHABLE gone: {cause}") == 1, out[-3000:]
    # the reachable target is checked as usual; an exception is an error naming it
    assert recs[("ACME-ETC-01", "compliant")]["outcome"] == "pass"
    number = recs[("checks/test_more.py::test_parses_a_number", "compliant")]
    assert number["outcome"] == "error", number
    assert number["message"] == ("ValueError: invalid literal for int() with base 10: "
                                 "'not-a-number' (at checks/test_more.py:10)"), number
