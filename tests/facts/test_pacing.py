"""Login pacing and the pre-authentication retry (facts/pacing.py, facts/remote.py).

The pacer and the classification are pure. The retry is shown end to end with a stand-in
``ssh`` on PATH that behaves as OpenSSH does when sshd's MaxStartups drops a connection
(stderr "kex_exchange_identification: read: Connection reset by peer", exit 255, nothing
on stdout) or when the link resets after the session started (the remote command's first
byte arrived): only the first is retried, so the fact script never runs twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jada_checks.facts import pacing, remote
from jada_checks.facts.remote import Connection, Unreachable, classify_ssh_error
from jada_checks.profile import Target
from jada_checks.reporting import document

KEX_RESET = "kex_exchange_identification: read: Connection reset by peer"
KEX_CLOSED = "kex_exchange_identification: Connection closed by remote host"


def test_maxstartups_signatures_are_retryable_only_before_authentication() -> None:
    for stderr in (KEX_RESET, KEX_CLOSED):
        reason = classify_ssh_error(stderr)
        assert pacing.retryable(255, False, reason), reason
        assert not pacing.retryable(255, True, reason), reason
    refused = classify_ssh_error("ssh: connect to host 10.0.0.1 port 22: Connection refused")
    assert not pacing.retryable(255, False, refused)
    assert not pacing.retryable(1, False, classify_ssh_error(KEX_RESET))


def test_one_endpoint_never_has_more_than_8_logins_unauthenticated() -> None:
    pacer = pacing.Pacer(max_parallel=64)
    now, peak, lock = [0], [0], threading.Lock()

    def login() -> None:
        pacer.acquire("10.0.0.1:22")
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.01)
        with lock:
            now[0] -= 1
        pacer.authenticated("10.0.0.1:22")
        pacer.finished()

    threads = [threading.Thread(target=login) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == pacing.MAX_STARTUPS_PER_ENDPOINT == 8, peak
    assert pacer.peak_in_flight == {"10.0.0.1:22": 8}


def test_the_global_cap_and_other_endpoints() -> None:
    pacer = pacing.Pacer(max_parallel=3, per_endpoint=2)
    assert pacer.acquire("a:22", block=False) and pacer.acquire("a:22", block=False)
    assert not pacer.acquire("a:22", block=False), "a third unauthenticated login on a:22"
    assert pacer.acquire("b:22", block=False)
    pacer.authenticated("a:22")
    assert not pacer.acquire("c:22", block=False), "max_parallel 3 ssh processes alive"
    pacer.finished()
    assert pacer.acquire("a:22", block=False)
    assert pacing.endpoint({"host": "h", "port": 22, "proxy_jump": "root@bastion"}) == \
        pacing.endpoint({"host": "other", "port": 2222, "proxy_jump": "root@bastion"})


FAKE_SSH = """#!/bin/sh
# Stand-in for ssh: attempt N of this target behaves as MODE says.
DIR='{dir}' MODE='{mode}'
n=$(($(cat "$DIR/attempts" 2>/dev/null || echo 0) + 1))
echo $n > "$DIR/attempts"
if [ "$MODE" = slow-pre-auth ] && [ $n -lt 3 ]; then
  sleep 0.7; echo "kex_exchange_identification: read: Connection reset by peer" >&2; exit 255
fi
if [ "$MODE" = pre-auth ] && [ $n -lt 3 ]; then
  echo "kex_exchange_identification: read: Connection reset by peer" >&2; exit 255
fi
printf J
cat > /dev/null
echo ran >> "$DIR/script-runs"
if [ "$MODE" = post-auth ]; then
  echo "Connection reset by 10.0.0.1 port 22" >&2; exit 255
fi
echo facts
"""


def fake_ssh(tmp_path: Path, mode: str) -> Path:
    """The stand-in, its directory and mode written into it. Never put on this process's
    PATH: the self-tests boot the sandbox in a background thread of this same process
    (tests/conftest.py) while host-free tests run, and its ``ssh`` by name would find the
    stand-in and use up its scripted resets (that made the JSON report test fail after
    tests/test_least_privilege.py, and only then)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ssh = bin_dir / "ssh"
    ssh.write_text(FAKE_SSH.format(dir=tmp_path, mode=mode))
    ssh.chmod(0o755)
    return ssh


def fake_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str,
                    connect_timeout: int = 5) -> Connection:
    """A connection whose logins run the stand-in (remote.ssh_binary, this module's only)."""
    ssh_path = fake_ssh(tmp_path, mode)
    monkeypatch.setattr(remote, "ssh_binary", lambda: str(ssh_path))
    monkeypatch.setattr(pacing, "BACKOFF_S", 0.05)
    ssh = {"host": "10.0.0.1", "port": 22, "user": "root", "identity_file": None,
           "known_hosts": None, "host_key_policy": "strict",
           "connect_timeout": connect_timeout,
           "command_timeout": 10, "dead_link_timeout": 30}
    return Connection(Target("t", ssh, None, {}))


def test_a_reset_before_authentication_is_retried_and_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = fake_connection(tmp_path, monkeypatch, "pre-auth")
    res = conn.run("echo facts")
    assert (res.rc, res.stdout) == (0, b"facts\n"), res
    assert conn.counters.retries == 2 and conn.counters.connections == 3
    assert (tmp_path / "script-runs").read_text() == "ran\n"
    conn.close()


def test_slow_attempts_do_not_use_up_the_retry_budget(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the backoff pauses count against connect_timeout: attempts that take long (a
    loaded runner, a wait for a login slot behind ssh.max_parallel) are not a reason to
    call a healthy target unreachable. Two resets of 0.7 s each, connect_timeout 1 s."""
    conn = fake_connection(tmp_path, monkeypatch, "slow-pre-auth", connect_timeout=1)
    res = conn.run("echo facts")
    assert (res.rc, res.stdout) == (0, b"facts\n"), res
    assert conn.counters.retries == 2
    conn.close()


def test_a_reset_after_authentication_is_not_retried_the_script_runs_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = fake_connection(tmp_path, monkeypatch, "post-auth")
    with pytest.raises(Unreachable, match="^connection reset by the target$"):
        conn.run("echo facts")
    assert conn.counters.retries == 0
    assert (tmp_path / "script-runs").read_text() == "ran\n", "the fact script ran twice"
    conn.close()


PROFILE = """\
version: 1
targets:
  - name: web
    ssh: {host: 127.0.0.1, port: 2222%s}
"""


def test_ssh_max_parallel_defaults_to_64_and_a_bad_value_is_named(tmp_path: Path) -> None:
    from jada_checks.profile import load_profile

    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE % "")
    assert load_profile(path).target("web").ssh["max_parallel"] == 64
    path.write_text(PROFILE % ", max_parallel: 0")
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "--jada-profile", str(path)], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 4, res.stdout + res.stderr
    assert "/targets/0/ssh/max_parallel" in res.stderr and "expected a number >= 1" in \
        res.stderr, res.stderr


def test_the_json_report_counts_the_retries(tmp_path: Path) -> None:
    ssh_path = fake_ssh(tmp_path, "pre-auth")  # 2 resets, then a session
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE % "")
    report = tmp_path / "report.json"
    # the stand-in on the PATH of the child run only, never this process's
    env = {**os.environ, "PATH": f"{ssh_path.parent}:/usr/bin:/bin"}
    env.pop("JADA_PROFILE", None)
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "-k", "JADA-CFG-01", "--jada-profile", str(path),
                          "--jada-report-json", str(report)],
                         capture_output=True, text=True, timeout=120, env=env)
    doc = json.loads(report.read_text())
    assert doc["run"]["ssh_retries"] == {"web": 2}, (doc["run"], out.stdout[-3000:])
    assert document.schema_errors(doc) == []
    assert (tmp_path / "script-runs").read_text() == "ran\n"
    assert (tmp_path / "attempts").read_text() == "3\n", "only the child run's logins"
