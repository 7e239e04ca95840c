"""Fault matrix, SSH side: every case ends in bounded time with a specific *error* for the
affected target (never a pass), while an unaffected target is checked as usual."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.sandbox_harness import Run, SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("compliant", "fault-hang", "scratch-*")


def edited_profile(sandbox: SandboxHarness, hosts: list[str], tmp_path: Path,
                   **ssh_changes: Any) -> Path:
    """A profile for ``hosts`` whose first target's ssh section is changed."""
    path = sandbox.profile_for(hosts, tmp_path / "profile.yaml")
    data = yaml.safe_load(path.read_text())
    data["targets"][0]["ssh"].update(ssh_changes)
    path.write_text(yaml.safe_dump(data))
    return path


def assert_host_side_errors(run: Run, host: str, reason: str) -> None:
    recs = [r for r in run.records if r["target"] == host and not r["control"].startswith(
        ("JADA-LS-", "JADA-HTTP-"))]  # not over SSH: Lightsail's view, the service port
    assert recs, run.output[-2000:]
    for rec in recs:
        assert rec["outcome"] == "error", rec
        assert rec["message"].startswith("unreachable: ") and reason in rec["message"], rec
    assert "Traceback" not in run.output


def assert_all_pass(run: Run, host: str) -> None:
    bad = {r["control"]: r["message"] for r in run.records
           if r["target"] == host and r["outcome"] not in ("pass", "skipped")}
    assert not bad, bad


def test_changed_host_key_is_refused(sandbox: SandboxHarness, tmp_path: Path) -> None:
    other = tmp_path / "spoof"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                   check=True)
    addr = sandbox.sandbox.address("scratch-1")
    kh = tmp_path / "known_hosts"
    kh.write_text(f"{addr} ssh-ed25519 {other.with_suffix('.pub').read_text().split()[1]}\n")
    run = sandbox.run_suite([], profile=edited_profile(
        sandbox, ["scratch-1", "compliant"], tmp_path, known_hosts=str(kh)))
    assert run.exitcode == 1
    assert_host_side_errors(run, "scratch-1", "host key changed (possible spoofing); "
                                              "target not checked")
    assert_all_pass(run, "compliant")


def test_accept_new_records_an_unknown_key_but_strict_refuses_it(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    strict = sandbox.run_suite([], profile=edited_profile(
        sandbox, ["scratch-1"], tmp_path, known_hosts=str(kh)))
    assert_host_side_errors(strict, "scratch-1", "host key not in known_hosts (strict checking)")
    assert kh.read_text() == ""
    accept = sandbox.run_suite([], profile=edited_profile(
        sandbox, ["scratch-1"], tmp_path, known_hosts=str(kh), host_key_policy="accept-new"))
    assert accept.record("JADA-UNIT-01", "scratch-1")["outcome"] == "pass"
    assert sandbox.sandbox.address("scratch-1") in kh.read_text()


def test_key_refused(sandbox: SandboxHarness, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True)
    run = sandbox.run_suite([], profile=edited_profile(
        sandbox, ["scratch-1", "compliant"], tmp_path, identity_file=str(stranger)))
    assert_host_side_errors(run, "scratch-1", "authentication refused (key not accepted)")
    assert_all_pass(run, "compliant")


def host_link(sandbox: SandboxHarness, host: str, state: str) -> None:
    """The host's own end of its link (eth0 in its namespace) goes down or up. Taking the
    machine's end down instead would delete the route to the host, and the runner's packets
    would leave by the default route for an address that is not ours."""
    sandbox.sandbox.exec(host, f"ip link set eth0 {state}")


def test_link_down_is_unreachable_within_the_connect_timeout(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    host_link(sandbox, "scratch-2", "down")
    try:
        start = time.monotonic()
        run = sandbox.run_suite([], profile=edited_profile(
            sandbox, ["scratch-2", "compliant"], tmp_path, connect_timeout=2))
        elapsed = time.monotonic() - start
    finally:
        host_link(sandbox, "scratch-2", "up")
    assert_host_side_errors(run, "scratch-2", "")
    msg = run.record("JADA-UNIT-01", "scratch-2")["message"]
    assert any(r in msg for r in ("timed out", "no route", "unreachable"))
    assert sandbox.sandbox.address("scratch-2") in msg
    assert_all_pass(run, "compliant")
    assert elapsed < 60
    assert run.exitcode == 1


def test_sshd_stopped(sandbox: SandboxHarness, tmp_path: Path) -> None:
    sandbox.sandbox.exec("scratch-3", "systemctl stop ssh.service")
    try:
        run = sandbox.run_suite([], profile=edited_profile(sandbox, ["scratch-3"], tmp_path))
    finally:
        sandbox.sandbox.exec("scratch-3", "systemctl start ssh.service")
    assert_host_side_errors(run, "scratch-3", "connection refused (sshd not running?)")


def test_hanging_remote_command_times_out(sandbox: SandboxHarness, tmp_path: Path) -> None:
    start = time.monotonic()
    run = sandbox.run_suite([], profile=edited_profile(
        sandbox, ["fault-hang", "compliant"], tmp_path, command_timeout=3))
    assert time.monotonic() - start < 60
    assert_host_side_errors(run, "fault-hang", "remote command timed out after 3 s")
    assert_all_pass(run, "compliant")


def test_target_that_goes_away_mid_run(sandbox: SandboxHarness, tmp_path: Path) -> None:
    """The link drops while the (hanging) fact command runs: keepalives end it."""
    timer = threading.Timer(3.0, host_link, (sandbox, "fault-hang", "down"))
    timer.start()
    try:
        start = time.monotonic()
        run = sandbox.run_suite([], profile=edited_profile(
            sandbox, ["fault-hang"], tmp_path, command_timeout=120, dead_link_timeout=6))
        elapsed = time.monotonic() - start
    finally:
        timer.cancel()
        host_link(sandbox, "fault-hang", "up")
    assert_host_side_errors(run, "fault-hang", "connection lost")
    assert elapsed < 30


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_one_command_and_one_connection_per_host(sandbox: SandboxHarness, tmp_path: Path,
                                                 workers: list[str]) -> None:
    """Round trips, counted by the suite and cross-checked by the host's own sshd."""
    stats = tmp_path / "stats.json"
    count = "journalctl -q -u ssh.service -o cat | grep -c '^Accepted' || true"
    before = int(sandbox.ssh("compliant", count))
    run = sandbox.run_suite(["compliant"], "--jada-stats-json", str(stats), *workers)
    after = int(sandbox.ssh("compliant", count))
    assert run.record("JADA-UNIT-01", "compliant")["outcome"] == "pass"
    totals = json.loads(stats.read_text())["targets"]["compliant"]
    assert totals["commands"] <= 3 and totals["connections"] == 1, totals
    assert after - before - 1 == 1  # one SSH login for the whole run (the -1: this query)
