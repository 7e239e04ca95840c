"""Least privilege: a non-root SSH user with ci/sudoers.d/jada-checks and the read helper
ci/libexec/jada-checks-read sees what root sees; every way sudo can refuse (no rule, no
NOPASSWD, a sudoers syntax error, requiretty, no sudo at all) makes the reads that need
root *errors* naming that cause, never a pass or a fail; and the helper admits only the
script's exact argument shapes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from jada_checks.facts.cfg_probes import ENV_GREP
from jada_checks.parsers.cfg_facts import ENV_NAMES
from tests.support.sandbox_harness import REPO, Run, SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("least-privilege", "no-sudo", "lp-*")

SUDOERS = REPO / "ci" / "sudoers.d" / "jada-checks"
HELPER = REPO / "ci" / "libexec" / "jada-checks-read"
READ = "/usr/local/libexec/jada-checks-read"
USER = "jada-audit"
# What needs root: descriptor counts, ss -p, the service's netns, process environments and
# cwd, the service user's view of its settings (every CFG control reads those facts);
# JADA-HTTP-03 compares the firewall with NET-04's listeners (ss -p).
NEEDS_ROOT = {"JADA-FD-02", "JADA-NET-01", "JADA-NET-03", "JADA-NET-04", "JADA-CFG-01",
              "JADA-CFG-02", "JADA-CFG-03", "JADA-CFG-04", "JADA-CFG-05", "JADA-HTTP-03"}


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


def assert_audit_user_sees_what_root_sees(sandbox: SandboxHarness, tmp_path: Path) -> None:
    """On the least-privilege host: the same outcome as root for every control, all pass."""
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


def test_audit_user_with_sudoers_sees_what_root_sees(sandbox: SandboxHarness,
                                                     tmp_path: Path) -> None:
    assert_audit_user_sees_what_root_sees(sandbox, tmp_path)


# host -> what the refusal message must name (sudo's own words, or the preflight's)
REFUSALS = {
    "no-sudo": "a password is required (exit 1): no NOPASSWD rule lets this user run " + READ,
    "lp-password-rule": "a password is required (exit 1): no NOPASSWD rule lets this user",
    "lp-missing-rule": "sudo -l lists rules, but none for " + READ,
    "lp-sudoers-syntax": "sudo reports a problem: /etc/sudoers.d/jada-checks:14:",
    "lp-requiretty": "sorry, you must have a tty to run sudo",
    "lp-no-sudo-binary": "sudo is not installed",
    # a helper of an earlier release (version 3: issue 26) is never used, and the fix is named
    "lp-old-helper": f"{READ} is another version (jada-checks-read 3); this suite speaks "
                     "version 4: replace it with ci/libexec/jada-checks-read of this release "
                     "now (versions 1 to 3 let the audit user run any program as root)",
}


@pytest.mark.parametrize("host", sorted(REFUSALS))
def test_every_sudo_refusal_is_an_error_naming_its_cause(
        sandbox: SandboxHarness, tmp_path: Path, host: str) -> None:
    root = host_side(sandbox.run_suite([host]), host)
    audit_run = sandbox.run_suite([], profile=as_audit_user(sandbox, host, tmp_path))
    audit = host_side(audit_run, host)
    assert set(audit) == set(root)
    for control, rec in audit.items():
        if control in NEEDS_ROOT:
            assert rec["outcome"] == "error", rec
            assert rec["message"].startswith("a read that needs root was refused"), rec
            assert REFUSALS[host] in rec["message"], rec
            assert "ci/libexec/jada-checks-read" in rec["message"], rec
        else:
            assert rec["outcome"] == root[control]["outcome"] == "pass", (rec, root[control])
    sudo_lines = [ln for ln in audit_run.output.splitlines() if ln.startswith("SUDO ")]
    assert len(sudo_lines) == 1 and REFUSALS[host] in sudo_lines[0], audit_run.output[-2000:]


@pytest.mark.parametrize("args", [
    "ls -U /proc/1/fd /root",
    "ls -U /root",
    "ls -U /proc/01/fd",
    "grep -az ^ANTHROPIC_MODEL= /proc/1/environ /etc/shadow",
    "grep -az ^ANTHROPIC_MODEL= /etc/shadow",
    "grep -az ^PATH= /proc/1/environ",
    "grep -az ^ -- /proc/1/environ",
    "grep -az -e ^ANTHROPIC_MODEL= /proc/1/environ",  # a part of the one environment read
    f"{ENV_GREP} /proc/1/environ /etc/shadow",
    f"{ENV_GREP} /etc/shadow",
    f"{ENV_GREP} -e ^ /proc/1/environ",
    f"{ENV_GREP.replace('^HOME=', '^AWS_SECRET_ACCESS_KEY=')} /proc/1/environ",
    f"{ENV_GREP.replace('-az', '-az -r')} /proc/1/environ",
    f"{ENV_GREP} /proc/1/../1/environ",
    "readlink /proc/1/cwd /etc/shadow",
    "readlink /proc/1/cwd/../../etc",
    "ss -H -l -n -t -p -K",
    "nsenter -t 1 -n bash",
    "nsenter -t 1 -n cat /etc/shadow",
    "setpriv --reuid=jada --regid=990 --init-groups bash -c id",
    "setpriv --reuid=jada --regid=990 --init-groups test -r /a /b",
    "setpriv --reuid=-x --regid=990 --init-groups test -r /a",
    "cat /etc/shadow",
    "version extra",
])
def test_the_read_helper_refuses_anything_else(sandbox: SandboxHarness, args: str) -> None:
    res = sandbox.sandbox.ssh_raw(sandbox.sandbox.address("least-privilege"),
                                  f"sudo -n -- {READ} {args}", user=USER)
    assert res.returncode == 64, (res.stdout, res.stderr)
    assert not res.stdout and f"jada-checks-read: refused: {args}" in res.stderr


@pytest.mark.parametrize("command", [
    "sudo -n -- bash -c id", "sudo -n -- cat /etc/shadow", "sudo -n -- ls -U /root",
    f"sudo -n -- sh {READ} version", "sudo -n -s",
])
def test_sudoers_allows_nothing_but_the_helper(sandbox: SandboxHarness, command: str) -> None:
    res = sandbox.sandbox.ssh_raw(sandbox.sandbox.address("least-privilege"), command,
                                  user=USER)
    # sudo -n asks for a password before it says "not allowed": either means refused
    refused = "a password is required" in res.stderr or "not allowed" in res.stderr
    assert res.returncode == 1 and refused and not res.stdout, (res.stdout, res.stderr)


def test_the_helper_admits_the_exact_reads(sandbox: SandboxHarness) -> None:
    r = f"sudo -n -- {READ}"
    res = sandbox.sandbox.ssh_raw(
        sandbox.sandbox.address("least-privilege"),
        f"set -e; {r} version; {r} ls -U /proc/1/fd >/dev/null; {r} readlink /proc/1/ns/net;"
        f" {r} ss -H -l -n -t -p >/dev/null; {r} nsenter -t 1 -n cat "
        "/proc/sys/net/core/somaxconn; id -nG; p=$(systemctl show -p MainPID --value "
        f"jada-agent.service); {r} {ENV_GREP} /proc/$p/environ | tr '\\0' '\\n'", user=USER)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("jada-checks-read 4\n"), res.stdout
    assert "net:[" in res.stdout and "systemd-journal" in res.stdout.split()
    assert "@@JADA-READ ran" in res.stderr  # the marker that tells a refusal from a "no"
    # the agent's environment, filtered by the read itself: HOME and nothing else
    assert "HOME=/home/jada" in res.stdout.split() and "PATH=" not in res.stdout


def test_the_helpers_environment_read_is_exactly_the_scripts() -> None:
    """The helper admits one environment read, the script's (cfg_probes.ENV_GREP): the same
    variables, in the same order, each an exact ``-e ^NAME=``."""
    text = HELPER.read_text()
    m = re.search(r'^ENV_ALLOW="(.*?)"$', text, re.S | re.M)
    assert m is not None
    assert tuple(m.group(1).replace("\\\n", " ").split()) == ENV_NAMES
    assert ENV_GREP == "grep -az " + " ".join(f"-e ^{n}=" for n in ENV_NAMES)


def test_sudoers_file_parses_and_the_helper_is_clean_sh() -> None:
    visudo = shutil.which("visudo") or "/usr/sbin/visudo"
    assert Path(visudo).exists(), "visudo missing: install the sudo package (make install)"
    res = subprocess.run([visudo, "-c", "-f", str(SUDOERS)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert HELPER.stat().st_mode & 0o777 == 0o755
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck missing: make install brings it"
    res = subprocess.run([shellcheck, "-s", "sh", str(HELPER)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
