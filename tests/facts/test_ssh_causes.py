"""SSH problems on the controller's side are named as they are, not as the target's fault.

OpenSSH says "Permission denied (publickey)" for a missing, unreadable or too-open identity
file and "Host key verification failed" for a missing known_hosts file. The suite checks
those files itself first (real files here; the end-to-end case runs the real suite).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jada_checks.facts.remote import classify_ssh_error, local_problem
from tests.reporting.test_e2e import suite


def ssh(tmp_path: Path, **kw: object) -> dict[str, object]:
    kh = tmp_path / "known_hosts"
    kh.touch()
    return {"identity_file": None, "known_hosts": str(kh), "host_key_policy": "strict", **kw}


def test_a_usable_key_and_known_hosts_have_no_problem(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    key.chmod(0o600)
    assert local_problem(ssh(tmp_path, identity_file=str(key))) is None


def test_missing_identity_file(tmp_path: Path) -> None:
    assert local_problem(ssh(tmp_path, identity_file=str(tmp_path / "nope"))) == \
        f"identity file {tmp_path}/nope does not exist (ssh.identity_file)"


def test_identity_file_others_can_read_is_named_with_its_mode(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    key.chmod(0o644)
    assert "has mode 0644; OpenSSH ignores a private key others can access (chmod 600 it)" \
        in str(local_problem(ssh(tmp_path, identity_file=str(key))))


def test_identity_file_that_is_a_directory(tmp_path: Path) -> None:
    assert "is not a file" in str(local_problem(ssh(tmp_path, identity_file=str(tmp_path))))


@pytest.mark.skipif(os.getuid() == 0, reason="root reads any file")
def test_unreadable_identity_file(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    key.chmod(0o000)
    assert "is not readable by uid" in str(local_problem(ssh(tmp_path, identity_file=str(key))))


def test_missing_known_hosts_only_matters_when_strict(tmp_path: Path) -> None:
    gone = str(tmp_path / "gone")
    assert "known_hosts file " + gone + " does not exist" in str(
        local_problem(ssh(tmp_path, known_hosts=gone)))
    assert local_problem(ssh(tmp_path, known_hosts=gone, host_key_policy="accept-new")) is None


def test_the_suite_reports_the_missing_key_by_name(tmp_path: Path) -> None:
    prof = tmp_path / "p.yaml"
    prof.write_text("version: 1\ntargets:\n  - name: web-1\n    ssh: {host: 127.0.0.1, "
                    "port: 1, identity_file: id_missing, known_hosts: kh}\n")
    (tmp_path / "kh").touch()
    r = suite(tmp_path, prof, "-k", "JADA-UNIT-01")
    msg = r.report["records"][0]["message"]
    assert r.code == 1 and f"identity file {tmp_path}/id_missing does not exist" in msg, r.out
    assert "key not accepted" not in r.out and "connection refused" not in msg


@pytest.mark.parametrize(("stderr", "reason"), [
    # the session's sshd killed after login (tests/run/test_midrun_faults.py, hit-sshd)
    ("Connection to 10.231.0.42 closed by remote host.\r\n",
     "connection closed by the target"),
    # sshd closing before authentication (e.g. MaxStartups, LoginGraceTime)
    ("Connection closed by 10.231.0.42 port 22\r\n", "connection closed by the target"),
])
def test_a_session_the_target_closes_is_named(stderr: str, reason: str) -> None:
    """OpenSSH's words for a connection the target ended, before and after login."""
    assert classify_ssh_error(stderr) == reason
