"""The sandbox end to end through its CLI: boot, check, break, check again, tear down; and
ownership: a sandbox is never torn down, re-addressed or re-keyed while its owner lives.

Each test uses its own sandbox root (``JADA_SANDBOX_DIR``) beside the session sandbox,
which may be booting at the same time: that is the point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jada_checks.sandbox.leases import leases, registry_lock
from tests.support.sandbox_harness import HOSTS_DIR, REPO, SANDBOX_ENV

pytestmark = pytest.mark.sandbox
CLI = (sys.executable, "-m", "jada_checks.sandbox.cli")


def sh(*cmd: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, **SANDBOX_ENV, **(env or {})})


def up(root: Path, name: str, *hosts: str, owner: int | None = None,
       profile: Path | None = None) -> subprocess.CompletedProcess:
    args = [*CLI, "up", "--name", name, "--profile-out", str(profile or root / f"{name}.yaml")]
    for h in hosts:
        args += ["--host", h]
    if owner is not None:
        args += ["--owner-pid", str(owner)]
    return sh(*args, env={"JADA_SANDBOX_DIR": str(root)})


def down(root: Path, name: str) -> subprocess.CompletedProcess:
    return sh(*CLI, "down", "--name", name, env={"JADA_SANDBOX_DIR": str(root)})


def links_of(state: Path) -> list[str]:
    data = json.loads((state / "state.json").read_text())
    return [f"jsb{m['index']}" for m in data["machines"]]


def leftovers(state: Path, links: list[str]) -> list[str]:
    """Mounts, nspawn processes and links of one sandbox that are still there."""
    found = [ln.split()[1] for ln in Path("/proc/mounts").read_text().splitlines()
             if ln.split()[1].startswith(str(state))]
    procs = sh("pgrep", "-af", "systemd-nspawn").stdout
    found += [ln for ln in procs.splitlines() if f"{state}/" in ln]
    present = sh("ip", "-o", "link", "show").stdout
    found += [link for link in links if f": {link}@" in present or f": {link}:" in present]
    return found


def suite(profile: Path, report: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--jada-profile", str(profile),
         "--jada-report-json", str(report), "-q", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={k: v for k, v in {**os.environ, **SANDBOX_ENV}.items() if k != "JADA_PROFILE"})


def outcomes(report: Path) -> dict[str, tuple[str, str]]:
    return {f"{r['control']}[{r['target']}]": (r["outcome"], r["message"])
            for r in json.loads(report.read_text())["records"]}


def ssh_ok(state: Path, profile: Path, command: str = "true") -> subprocess.CompletedProcess:
    addr = yaml.safe_load(profile.read_text())["targets"][0]["ssh"]["host"]
    return sh("ssh", "-i", str(state / "id_ed25519"), "-o",
              f"UserKnownHostsFile={state / 'known_hosts'}", "-o", "BatchMode=yes",
              "-o", "StrictHostKeyChecking=yes", f"root@{addr}", command)


def test_up_check_break_down(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    res = up(tmp_path, "life", f"x={HOSTS_DIR / 'compliant'}", profile=profile)
    assert res.returncode == 0, res.stderr
    state = tmp_path / "life"
    links = links_of(state)
    try:
        def run() -> tuple[int, dict]:
            report = tmp_path / "r.json"
            proc = suite(profile, report, "-k", "UNIT-01 or LS-01")
            proc.communicate(timeout=120)
            recs = {r["control"]: r for r in json.loads(report.read_text())["records"]}
            return proc.returncode, recs

        rc, recs = run()
        assert rc == 0, recs
        assert recs["JADA-UNIT-01"]["outcome"] == "pass"
        assert recs["JADA-LS-01"]["outcome"] == "pass"
        stop = ssh_ok(state, profile, "systemctl stop jada-agent")
        assert stop.returncode == 0, stop.stderr
        rc, recs = run()
        assert rc == 1
        unit = recs["JADA-UNIT-01"]
        assert unit["outcome"] == "fail"
        assert unit["message"] == "jada-agent.service is inactive (dead)"
        assert "ActiveState=inactive" in unit["observed"]
    finally:
        res = down(tmp_path, "life")
    assert res.returncode == 0, res.stderr
    assert leftovers(state, links) == []


def test_failed_up_leaves_the_running_sandbox_alone(tmp_path: Path) -> None:
    """A bad argument, a name in use and a failed boot: each exits 1 with a reason, and
    the running sandbox keeps its host, address, key and known_hosts."""
    profile = tmp_path / "keep.yaml"
    assert up(tmp_path, "keep", f"x={HOSTS_DIR / 'compliant'}", profile=profile
              ).returncode == 0
    state = tmp_path / "keep"
    before = {f: (state / f).read_bytes() for f in ("id_ed25519", "known_hosts", "state.json")}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "inherits").write_text(str(HOSTS_DIR / "compliant"))
    (broken / "prepare.sh").write_text("echo 'prepare failed on purpose' >&2; exit 3\n")
    try:
        bad_dir = up(tmp_path, "keep", f"x={HOSTS_DIR / 'nope'}")
        assert bad_dir.returncode == 1
        assert "host directory" in bad_dir.stderr and "does not exist" in bad_dir.stderr
        in_use = up(tmp_path, "keep", f"y={HOSTS_DIR / 'compliant'}")
        assert in_use.returncode == 1
        assert f"'keep' ({state}) is in use: owned by pid {os.getpid()}" in in_use.stderr
        failed_boot = up(tmp_path, "other", f"z={broken}")
        assert failed_boot.returncode == 1
        assert "prepare failed on purpose" in failed_boot.stderr
        assert leftovers(tmp_path / "other", []) == []
        assert {f: (state / f).read_bytes() for f in before} == before
        assert ssh_ok(state, profile).returncode == 0
    finally:
        down(tmp_path, "keep")


def test_second_up_during_a_run_leaves_both_verdicts_correct(tmp_path: Path) -> None:
    """Two sandboxes, two shells: the second boots while the first's suite runs; each
    run's verdicts are those of its own hosts, under its own keys."""
    first, second = tmp_path / "one.yaml", tmp_path / "two.yaml"
    assert up(tmp_path, "one", f"a={HOSTS_DIR / 'compliant'}", profile=first).returncode == 0
    try:
        run_one = suite(first, tmp_path / "one.json", "-m", "not area_ls")
        boot_two = up(tmp_path, "two", f"a={HOSTS_DIR / 'drifted'}", profile=second)
        assert boot_two.returncode == 0, boot_two.stderr
        run_two = suite(second, tmp_path / "two.json", "-m", "not area_ls")
        out_one, _ = run_one.communicate(timeout=180)
        out_two, _ = run_two.communicate(timeout=180)
        one, two = outcomes(tmp_path / "one.json"), outcomes(tmp_path / "two.json")
        assert run_one.returncode == 0, out_one[-2000:]
        assert {o for o, _ in one.values()} == {"pass"}, one
        assert run_two.returncode == 1, out_two[-2000:]
        faults = yaml.safe_load((HOSTS_DIR / "drifted" / "faults.yaml").read_text())["faults"]
        assert {key.split("[")[0]: o for key, (o, _) in two.items()} == {
            key.split("[")[0]: faults.get(key.split("[")[0], "pass") for key in two}, two
        assert len(two) == len(one)
        hosts = [yaml.safe_load(p.read_text())["targets"][0]["ssh"]["host"]
                 for p in (first, second)]
        assert hosts[0] != hosts[1]
    finally:
        down(tmp_path, "one")
        down(tmp_path, "two")


def test_a_sandbox_whose_owner_died_is_swept_by_the_next_up(tmp_path: Path) -> None:
    owner = subprocess.Popen(["sleep", "600"])
    try:
        assert up(tmp_path, "orphan", f"y={HOSTS_DIR / 'compliant'}", owner=owner.pid
                  ).returncode == 0
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    state = tmp_path / "orphan"
    links = links_of(state)
    assert leftovers(state, links) != []
    again = up(tmp_path, "next", f"y={HOSTS_DIR / 'compliant'}")
    assert again.returncode == 0, again.stderr
    try:
        # a freed slot may be leased again, by "next" or by any sandbox running beside
        # this test (the links of every live lease are theirs, not leftovers)
        with registry_lock():
            reused = {f"jsb{slot}" for lease in leases() for slot in lease.slots}
        assert leftovers(state, [ln for ln in links if ln not in reused]) == []
        assert not (state / "hosts").exists() or not any((state / "hosts").iterdir())
    finally:
        assert down(tmp_path, "next").returncode == 0
    assert leftovers(tmp_path / "next", []) == []
