"""Fixes are code: filled in with the target's values, valid shell, and not clobbering.

Every filled fix goes through ``bash -n``; the demo-like Markdown report must carry every
fix in a fenced block; an error whose cause is the connection, credentials or sudo gets
that cause's fix, shown once per target.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from jada_checks.controls import catalogue
from jada_checks.model import Control
from jada_checks.remediation import fill, fix_for, target_values
from jada_checks.reporting import markdown
from tests.support.reporting_support import demo_like, demo_target, doc, rec

FACTS = {"user": "jada", "home": "/home/jada", "settings": "/home/jada/.claude/settings.json"}
UNREACHABLE = "unreachable: ops@10.0.0.7:2222: authentication refused (key not accepted)"
NO_CREDS = "no AWS credentials found for Lightsail GetInstance (standard chain)"
SUDO = "a read that needs root was refused: sudo: a password is required"


def bash_n(script: str) -> str:
    """bash's syntax check; returns its complaint, empty when the script parses."""
    res = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True,
                         timeout=30)
    return res.stderr


CONTROLS = {c.id: c for c in catalogue()}


def control(control_id: str) -> Control:
    return CONTROLS[control_id]


def test_every_control_has_a_fix() -> None:
    assert not [c.id for c in CONTROLS.values() if not c.fix.strip()]


@pytest.mark.parametrize("facts", [FACTS, {}], ids=["known-user", "looked-up-user"])
def test_every_fix_is_valid_shell_with_real_values(tmp_path: Path, facts: dict) -> None:
    target = demo_target(tmp_path)
    for c in catalogue():
        fix = fix_for(c, target, "fail", "x", facts)
        assert bash_n(fix) == "", (c.id, fix)
        assert not re.search(r"<[a-z][^>]*>|~SVC_USER|\{[a-z_]+\}", fix), (c.id, fix)
        if c.side == "lightsail":
            assert "--instance-name jada-prod-1" in fix or "--resource-name jada-prod-1" in fix
            assert "--region eu-west-2" in fix, (c.id, fix)
    cfg = fix_for(control("JADA-CFG-01"), target, "fail", "x", facts)
    if facts:
        assert "chown jada: /home/jada/.claude/settings.json" in cfg
    else:
        assert cfg.startswith("SVC_USER=$(systemctl show -p User --value jada-agent.service)")
        assert 'chown "$SVC_USER": "$SVC_SETTINGS"' in cfg


def test_listen_queue_sysctls_share_one_dropin_written_whole(tmp_path: Path) -> None:
    target = demo_target(tmp_path)
    fixes = {i: fix_for(control(i), target, "fail", "x") for i in CONTROLS}
    net = [fixes[i] for i in ("JADA-NET-01", "JADA-NET-02", "JADA-NET-03")]
    block = ("cat > /etc/sysctl.d/60-jada.conf <<'EOF'\nnet.core.somaxconn = 4096\n"
             "net.ipv4.tcp_max_syn_backlog = ")
    assert all(block in f for f in net), net
    # nothing else writes that file, and nothing appends to a sysctl.d file
    assert not [i for i, f in fixes.items() if "60-jada.conf" in f and "sysctl.d" in f
                and not i.startswith("JADA-NET-0")]
    assert not any(">> /etc/sysctl.d" in f for f in fixes.values())


def test_no_command_is_wrapped(tmp_path: Path) -> None:
    """A wrapped command (``-p MainPID`` / ``--value UNIT`` on the next line) parses but
    runs two wrong commands: no line may start with an option or a bare argument unless
    the line before continues it with a backslash."""
    target = demo_target(tmp_path)
    for i in CONTROLS:
        prev = ""
        for line in fix_for(control(i), target, "fail", "x", FACTS).splitlines():
            if line.startswith("-"):
                assert prev.endswith("\\"), (i, prev, line)
            prev = line


@pytest.mark.parametrize(("message", "words"), [
    (UNREACHABLE, "ssh -p 2222 -o BatchMode=yes"),
    (NO_CREDS, "aws configure --profile jada-checks"),
    (SUDO, "'sudo -n -l'"),
    # an earlier read helper (issue 26): replace it, then ask it for its version
    ("a read that needs root was refused (sudo 1.9.13p3): ls -U /proc/35/fd: "
     "/usr/local/libexec/jada-checks-read is another version (jada-checks-read 3); this "
     "suite speaks version 4: replace it with ci/libexec/jada-checks-read of this release",
     "install -o root -g root -m 0755 jada-checks-read /usr/local/libexec/jada-checks-read\n"
     "# from your workstation, this must print the version the suite speaks:\nssh -p 2222"),
])
def test_cause_errors_get_the_cause_fix(tmp_path: Path, message: str, words: str) -> None:
    target = demo_target(tmp_path)
    fix = fix_for(control("JADA-NET-01"), target, "error", message)
    assert words in fix and "60-jada.conf" not in fix and bash_n(fix) == ""


def test_identity_file_and_known_hosts_are_named_in_the_connection_fix(tmp_path: Path) -> None:
    fix = fix_for(control("JADA-UNIT-01"), demo_target(tmp_path), "error", UNREACHABLE)
    assert f"-i {tmp_path}/id_demo" in fix and f"ls -l {tmp_path}/id_demo" in fix
    assert f"ssh-keygen -F 10.0.0.7 -f {tmp_path}/known_hosts" in fix


def test_markdown_shows_a_cause_once_per_target(tmp_path: Path) -> None:
    target = demo_target(tmp_path)
    recs = [rec(control=i, target="drifted", outcome="error", message=UNREACHABLE,
                remediation=fix_for(control(i), target, "error", UNREACHABLE))
            for i in ("JADA-NET-01", "JADA-UNIT-01", "JADA-FD-01")]
    md = markdown.render(doc(recs))
    assert md.count("ssh -p 2222") == 1 and "60-jada.conf" not in md
    assert "**Not checked — unreachable: ops@10.0.0.7:2222" in md


def test_every_fix_in_the_demo_markdown_is_fenced_and_parses(tmp_path: Path) -> None:
    report = demo_like(tmp_path)
    md = markdown.render(report)
    blocks = re.findall(r"^```sh\n(.*?)\n```$", md, re.S | re.M)
    failing = [r for r in report["records"] if r["outcome"] in ("fail", "error")]
    assert len(failing) == 30 and blocks  # drifted's faults.yaml
    for r in failing:
        assert r["remediation"].strip() in blocks or \
            f"**Fix for `{r['control']}`:** the same as" in md, r["control"]
    for b in blocks:
        assert bash_n(b) == "", b
    # outside fences, no line of a fix leaks into the prose
    prose = re.sub(r"^```sh\n.*?\n```$", "", md, flags=re.S | re.M)
    assert "cat > /etc/sysctl.d/60-jada.conf" not in prose


def test_a_failure_fix_starts_with_current_and_wanted_values(tmp_path: Path) -> None:
    fix = fix_for(control("JADA-NET-01"), demo_target(tmp_path), "fail", "x",
                  observed="net.core.somaxconn = 1536\nrm -rf /",
                  expected="net.core.somaxconn >= 4096")
    assert fix.startswith("# now: net.core.somaxconn = 1536 rm -rf /\n"
                          "# wanted: net.core.somaxconn >= 4096\n")
    assert bash_n(fix) == ""


def test_fill_leaves_foreign_braces_alone() -> None:
    assert fill("awk '{print $NF}' {unit} ${{X:?y}}", {"unit": "a.service"}) == \
        "awk '{print $NF}' a.service ${X:?y}"


def test_values_are_shell_quoted(tmp_path: Path) -> None:
    target = demo_target(tmp_path)
    assert target_values(target, {"home": "/home/my user"})["home"] == "'/home/my user'"


def test_the_hand_command_reaches_a_target_through_its_bastion_as_strictly() -> None:
    """The connection fix of a target behind a bastion runs the bastion's ssh with the
    same key, known_hosts and StrictHostKeyChecking, as the suite does."""
    from jada_checks.profile import Target
    from jada_checks.remediation import ssh_command

    ssh = {"host": "10.0.0.5", "port": 22, "user": "root", "identity_file": "/k",
           "known_hosts": "/kh", "host_key_policy": "strict", "connect_timeout": 5,
           "proxy_jump": "ops@b:2222", "config_file": "/c"}
    cmd = ssh_command(Target("t", ssh, None, {}))
    assert cmd.startswith("ssh -F /c -p 22 ")
    assert ("-o 'ProxyCommand=ssh -p 2222 -o BatchMode=yes -o ConnectTimeout=5 -o "
            "IdentitiesOnly=yes -i /k -o UserKnownHostsFile=/kh -o StrictHostKeyChecking=yes "
            "-W '\"'\"'[%h]:%p'\"'\"' ops@b' root@10.0.0.5 true") in cmd


def test_the_connection_fix_looks_up_the_bastion_key_too() -> None:
    from jada_checks.profile import Target
    from jada_checks.remediation import _connection_fix

    ssh = {"host": "10.0.0.5", "user": "root", "known_hosts": "/kh",
           "proxy_jump": "ops@b.example:2222"}
    fix = _connection_fix(Target("t", ssh, None, {}), "unreachable")
    assert fix.endswith("# and so must the bastion's (ssh.proxy_jump), in the same file:\n"
                        "ssh-keygen -F '[b.example]:2222' -f /kh")
