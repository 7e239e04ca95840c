"""Least privilege (issue 8): a non-root SSH user with ci/sudoers.d/jada-checks sees what root
sees; without the sudoers rules the reads that need root are *errors* naming the refused
read, never passes; and the rules admit only the script's exact argument shapes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.sandbox_harness import HOSTS_DIR, REPO, Run, SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("least-privilege", "no-sudo")

SUDOERS = REPO / "ci" / "sudoers.d" / "jada-checks"
USER = "jada-audit"
# What needs root: descriptor counts, ss -p, the service's netns, process environments and
# cwd, the service user's view of its settings (every CFG control reads those facts).
NEEDS_ROOT = {"JADA-FD-02", "JADA-NET-01", "JADA-NET-03", "JADA-NET-04", "JADA-CFG-01",
              "JADA-CFG-02", "JADA-CFG-03", "JADA-CFG-04", "JADA-CFG-05"}


def as_audit_user(sandbox: SandboxHarness, host: str, tmp_path: Path) -> Path:
    """The host's profile with the ssh section edited: the dedicated user, through sudo."""
    path = sandbox.profile_for([host], tmp_path / f"profile-{host}-audit.yaml")
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    data["targets"][0]["ssh"].update(user=USER, sudo=True)
    path.write_text(yaml.safe_dump(data))
    return path


def host_side(run: Run, host: str) -> dict[str, dict[str, Any]]:
    recs = {r["control"]: r for r in run.records
            if r["target"] == host and not r["control"].startswith("JADA-LS-")}
    assert recs, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    return recs


def test_audit_user_with_sudoers_sees_what_root_sees(sandbox: SandboxHarness,
                                                     tmp_path: Path) -> None:
    host = "least-privilege"
    root = host_side(sandbox.run_suite([host]), host)
    audit = host_side(sandbox.run_suite([], profile=as_audit_user(sandbox, host, tmp_path)),
                      host)
    assert {c: r["outcome"] for c, r in audit.items()} == \
        {c: r["outcome"] for c, r in root.items()}
    bad = {c: r["message"] for c, r in audit.items() if r["outcome"] not in ("pass", "skipped")}
    assert not bad, bad
    # the script really ran as the audit user (LIM-01 names the session's user)
    assert USER in audit["JADA-LIM-01"]["message"], audit["JADA-LIM-01"]
    assert "root" in root["JADA-LIM-01"]["message"], root["JADA-LIM-01"]


def test_without_sudoers_root_reads_are_errors_naming_the_refusal(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    host = "no-sudo"
    root = host_side(sandbox.run_suite([host]), host)
    audit = host_side(sandbox.run_suite([], profile=as_audit_user(sandbox, host, tmp_path)),
                      host)
    assert set(audit) == set(root)
    for control, rec in audit.items():
        if control in NEEDS_ROOT:
            assert rec["outcome"] == "error", rec
            assert "refused" in rec["message"] and "sudo" in rec["message"], rec
        else:
            assert rec["outcome"] == root[control]["outcome"] == "pass", (rec, root[control])


@pytest.mark.parametrize("command", [
    "sudo -n -- bash -c id",
    "sudo -n -- ls -U /proc/1/fd /root",
    "sudo -n -- ls -U /root",
    "sudo -n -- grep -az ^ANTHROPIC_MODEL= /proc/1/environ /etc/shadow",
    "sudo -n -- grep -az ^ANTHROPIC_MODEL= /etc/shadow",
    "sudo -n -- grep -az ^ -- /proc/1/environ",
    "sudo -n -- readlink /proc/1/cwd /etc/shadow",
    "sudo -n -- ss -H -l -n -t -p -K",
    "sudo -n -- nsenter -t 1 -n bash",
    "sudo -n -- nsenter -t 1 -n cat /etc/shadow",
    "sudo -n -- setpriv --reuid=jada --regid=990 --init-groups bash -c id",
    "sudo -n -- setpriv --reuid=jada --regid=990 --init-groups test -r /a /b",
    "sudo -n -- cat /etc/shadow",
])
def test_sudoers_refuses_anything_else(sandbox: SandboxHarness, command: str) -> None:
    res = sandbox.sandbox.ssh_raw(sandbox.sandbox.address("least-privilege"), command,
                                  user=USER)
    # sudo -n asks for a password before it says "not allowed": either means refused
    refused = "a password is required" in res.stderr or "not allowed" in res.stderr
    assert res.returncode == 1 and refused and not res.stdout, (res.stdout, res.stderr)


def test_sudoers_admits_the_exact_reads(sandbox: SandboxHarness) -> None:
    res = sandbox.sandbox.ssh_raw(
        sandbox.sandbox.address("least-privilege"),
        "set -e; sudo -n -- ls -U /proc/1/fd >/dev/null; sudo -n -- readlink /proc/1/ns/net;"
        " sudo -n -- ss -H -l -n -t -p >/dev/null; id -nG", user=USER)
    assert res.returncode == 0, res.stderr
    assert "net:[" in res.stdout and "systemd-journal" in res.stdout.split()


def test_sudoers_file_parses_and_the_sandbox_copy_matches() -> None:
    visudo = shutil.which("visudo") or "/usr/sbin/visudo"
    assert Path(visudo).exists(), "visudo missing: install the sudo package (make install)"
    res = subprocess.run([visudo, "-c", "-f", str(SUDOERS)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    copy = HOSTS_DIR / "least-privilege" / "rootfs" / "etc" / "sudoers.d" / "jada-checks"
    assert copy.read_bytes() == SUDOERS.read_bytes()
    assert not (HOSTS_DIR / "no-sudo" / "rootfs" / "etc" / "sudoers.d").exists()
