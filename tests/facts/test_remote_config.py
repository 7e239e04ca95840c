"""The OpenSSH client configuration the suite writes per target (no connection made, but
for the early login's idempotence, against a closed loopback port)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jada_checks.facts.remote import Connection, Unreachable, spawn_failure
from jada_checks.profile import load_profile


def config_of(tmp_path: Path, ssh: str) -> str:
    (tmp_path / "p.yaml").write_text(f"version: 1\ntargets:\n  - name: web\n    ssh: {ssh}\n")
    conn = Connection(load_profile(tmp_path / "p.yaml").targets[0])
    try:
        return conn._config().read_text()
    finally:
        conn.close()


def test_openssh_order_by_default(tmp_path: Path) -> None:
    """Post-quantum key exchange stays first unless the profile opts out."""
    text = config_of(tmp_path, "{host: 192.0.2.1}")
    assert "KexAlgorithms" not in text
    assert "StrictHostKeyChecking yes" in text and "ControlMaster no" in text


def test_opting_out_of_post_quantum_puts_curve25519_first(tmp_path: Path) -> None:
    text = config_of(tmp_path, "{host: 192.0.2.1, post_quantum_kex: false}")
    # '^': placed at the head of OpenSSH's default set, nothing removed (ssh_config(5)).
    assert "  KexAlgorithms ^curve25519-sha256,curve25519-sha256@libssh.org\n" in text


def test_an_early_login_is_opened_once_even_after_it_was_used(tmp_path: Path) -> None:
    """start() before conftests load and again at configure, run() in between (the fact
    thread): still one ssh process, one connection counted."""
    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1}\n")
    conn = Connection(load_profile(tmp_path / "p.yaml").targets[0])
    try:
        conn.start()
        with pytest.raises(Unreachable, match="connection refused"):
            conn.run("true")
        conn.start()
        assert conn.counters.connections == 1 and conn._proc is None
    finally:
        conn.close()


def test_no_ssh_client_is_a_clear_reason_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an ``ssh`` to run, the early login stays quiet and the run names the cause.
    (The client is looked up once, :func:`remote.ssh_binary`; pointing it at a missing
    file leaves this process's PATH alone, which the sandbox's boot thread uses.)"""
    from jada_checks.facts import remote

    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1}\n")
    monkeypatch.setattr(remote, "ssh_binary", lambda: str(tmp_path / "ssh"))  # none there
    conn = Connection(load_profile(tmp_path / "p.yaml").targets[0])
    try:
        conn.start()
        with pytest.raises(Unreachable, match="cannot run the OpenSSH client 'ssh' on this "
                           "machine: No such file or directory"):
            conn.run("true")
        assert conn.counters.connections == 0
    finally:
        conn.close()


def resolved(argv: list[str]) -> dict[str, str]:
    """What OpenSSH itself makes of a command line (ssh -G: no connection)."""
    out = subprocess.run([argv[0], "-G", *argv[1:-1]], capture_output=True, text=True,
                         check=True).stdout
    return dict(ln.split(" ", 1) for ln in out.splitlines() if " " in ln)


def connection(tmp_path: Path, ssh: str) -> Connection:
    (tmp_path / "p.yaml").write_text(f"version: 1\ntargets:\n  - name: web\n    ssh: {ssh}\n")
    return Connection(load_profile(tmp_path / "p.yaml").targets[0])


def test_an_ssh_config_file_cannot_weaken_the_host_key_policy(tmp_path: Path) -> None:
    """ssh.config_file: the file's Host blocks see ssh.host as written and its
    ProxyCommand is used, but every policy option comes from the profile (ssh -o is read
    before the file; ssh_config(5): the first obtained value is used)."""
    (tmp_path / "ssh_config").write_text(
        "Host i-*\n  ProxyCommand sh -c 'aws ssm start-session --target %h'\n"
        "Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
        "  KnownHostsCommand /bin/cat\n  VerifyHostKeyDNS yes\n  BatchMode no\n  User ec2-user\n")
    (tmp_path / "kh").write_text("")
    conn = connection(tmp_path, "{host: i-0abc, config_file: ssh_config, known_hosts: kh}")
    try:
        argv = conn.argv("true")
        assert argv[1:3] == ["-F", str(tmp_path / "ssh_config")] and argv[-2] == "i-0abc"
        got = resolved(argv)
    finally:
        conn.close()
    assert got["proxycommand"] == "sh -c 'aws ssm start-session --target %h'"
    assert (got["stricthostkeychecking"], got["userknownhostsfile"]) == ("true", str(
        tmp_path / "kh"))
    assert (got["batchmode"], got["verifyhostkeydns"], got["user"]) == ("yes", "false", "root")
    assert "knownhostscommand" not in got  # "none": no helper adds trusted keys


def test_the_bastion_is_checked_as_strictly_as_the_target(tmp_path: Path) -> None:
    """ssh.proxy_jump: an explicit ProxyCommand runs the bastion's ssh on the suite's own
    config, whose bastion block has the target's key, known_hosts and strictness."""
    conn = connection(tmp_path, "{host: 10.1.2.3, proxy_jump: 'ops@[2001:db8::7]:2222', "
                                "known_hosts: kh, identity_file: id}")
    try:
        argv = conn.argv("true")
        target = resolved(argv)
        cfg = str(conn._config())
        jump = resolved(["ssh", "-F", cfg, "jada-jump", "true"])
    finally:
        conn.close()
    assert target["proxycommand"].endswith(
        f" -F {cfg} -E {Path(cfg).parent / 'jump.log'} -W '[%h]:%p' jada-jump")
    assert (jump["hostname"], jump["port"], jump["user"]) == ("2001:db8::7", "2222", "ops")
    for key in ("stricthostkeychecking", "userknownhostsfile", "globalknownhostsfile",
                "batchmode", "identityfile", "identitiesonly", "verifyhostkeydns"):
        assert jump[key] == target[key], key
    assert jump["stricthostkeychecking"] == "true"
    assert jump["userknownhostsfile"] == str(tmp_path / "kh")


@pytest.mark.parametrize("value", ["a,b", "host:port", "u@h@i", "ssh://h"])
def test_a_bad_proxy_jump_names_the_field(tmp_path: Path, value: str) -> None:
    from jada_checks.inputs import InputError

    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     f"    ssh: {{host: h, proxy_jump: '{value}'}}\n")
    with pytest.raises(InputError, match=r"/targets/0/ssh/proxy_jump \(line 4\): "
                                         "expected a string matching"):
        load_profile(tmp_path / "p.yaml")


def test_a_proxy_jump_port_out_of_range_is_a_clear_reason(tmp_path: Path) -> None:
    conn = connection(tmp_path, "{host: 127.0.0.1, proxy_jump: 'b:70000'}")
    try:
        with pytest.raises(Unreachable, match=r"ssh.proxy_jump 'b:70000': port 70000 is "
                                              "not in 1-65535"):
            conn.run("true")
    finally:
        conn.close()


def test_a_missing_ssh_config_file_is_named(tmp_path: Path) -> None:
    conn = connection(tmp_path, "{host: 127.0.0.1, config_file: nope}")
    try:
        with pytest.raises(Unreachable, match=f"ssh config file {tmp_path / 'nope'} does not "
                                              r"exist or is not a file \(ssh.config_file\)"):
            conn.run("true")
    finally:
        conn.close()


def test_a_typo_in_the_ssh_config_file_names_its_line(tmp_path: Path) -> None:
    """OpenSSH stops on a bad option before it connects; the reason names file and line."""
    (tmp_path / "ssh_config").write_text("Host *\n  ProxyComand nc %h %p\n")
    conn = connection(tmp_path, "{host: 127.0.0.1, port: 1, config_file: ssh_config}")
    try:
        with pytest.raises(Unreachable, match=f"ssh config {tmp_path / 'ssh_config'} line 2: "
                                              "Bad configuration option: proxycomand"):
            conn.run("true")
    finally:
        conn.close()


@pytest.mark.parametrize(("log", "reason"), [
    ("", "host key not in known_hosts (strict checking)"),
    ("Warning: Permanently added '192.0.2.9' (ED25519) to the list of known hosts.\r\n",
     "host key not in known_hosts (strict checking)"),
    ("No ED25519 host key is known for 192.0.2.9 and you have requested strict checking.\r\n"
     "Host key verification failed.\r\n",
     "bastion ops@192.0.2.9 (ssh.proxy_jump): host key not in known_hosts (strict checking)"),
    ("channel 0: open failed: connect failed: Connection refused\r\n"
     "stdio forwarding failed\r\n",
     "the bastion ops@192.0.2.9 (ssh.proxy_jump) could not reach the target: Connection "
     "refused"),
])
def test_a_failure_names_the_hop_it_happened_on(tmp_path: Path, log: str, reason: str) -> None:
    """The bastion's ssh logs to a file of its own: what it says there is the bastion's
    hop (its INFO lines about a hop that went well are not); else the target's."""
    from jada_checks.facts.remote import Result

    conn = connection(tmp_path, "{host: 10.1.2.3, proxy_jump: ops@192.0.2.9}")
    try:
        conn.jump_log.write_text(log)
        target = ("No ED25519 host key is known for 10.1.2.3 and you have requested strict "
                  "checking.\r\nHost key verification failed.\r\n") if not log.startswith(
                      ("No", "channel")) else "Connection closed by UNKNOWN port 65535\r\n"
        assert conn._reason(Result(255, b"", target.encode())) == reason
    finally:
        conn.close()


def test_discovered_targets_take_the_bastion_and_the_config_file(tmp_path: Path) -> None:
    """targets_from.lightsail.ssh carries both; the config file is relative to the profile
    like the key, and one instance's override can name another bastion."""
    (tmp_path / "p.yaml").write_text(
        "version: 1\ntargets_from:\n  lightsail:\n    regions: [us-east-1]\n"
        "    ssh: {proxy_jump: 'ops@bastion.example', config_file: conf/ssh_config}\n"
        "    overrides:\n      web-2: {ssh: {proxy_jump: 'ops@bastion-2.example:2222'}}\n")
    prof = load_profile(tmp_path / "p.yaml")
    one = prof.discovered_target("web-1", "us-east-1", "198.51.100.7").ssh
    two = prof.discovered_target("web-2", "us-east-1", "198.51.100.8").ssh
    assert one is not None and two is not None
    assert (one["proxy_jump"], one["config_file"]) == (
        "ops@bastion.example", str(tmp_path / "conf" / "ssh_config"))
    assert two["proxy_jump"] == "ops@bastion-2.example:2222"


def test_a_dead_link_is_named_from_the_target_ssh_own_log(tmp_path: Path) -> None:
    """OpenSSH names a dead link only at INFO ("Timeout, server HOST not responding.",
    clientloop.c server_alive_check, logit()): at LogLevel ERROR it exited 255 without a
    word, and the reason read "the SSH session ended without a message". The target's ssh
    logs at INFO to a file of its own (-E), which the reason is read from; the script's
    stderr stays apart. (tests/run/test_midrun_faults.py: the same on real dead links.)"""
    from jada_checks.facts.remote import Result

    conn = connection(tmp_path, "{host: 10.1.2.3}")
    try:
        argv = conn.argv("true")
        assert resolved(argv)["loglevel"] == "INFO"
        assert argv[argv.index("-E") + 1] == str(conn.log)
        conn.log.write_text("Timeout, server 10.1.2.3 not responding.\r\n")
        assert conn._reason(Result(255, b"", b"")) == "connection lost (no answer to keepalives)"
        conn.log.write_text("Warning: Permanently added '10.1.2.3' (ED25519) to the list of "
                            "known hosts.\r\n")  # a hop that went well is no reason
        assert conn._reason(Result(255, b"", b"Connection to 10.1.2.3 closed by remote "
                                               b"host.\r\n")) == "connection closed by the target"
    finally:
        conn.close()


_SHORT_OF_DESCRIPTORS = """
import os, resource, sys
from jada_checks.facts.remote import Connection, Unreachable
from jada_checks.profile import load_profile
conn = Connection(load_profile(sys.argv[1]).targets[0])
conn._config()  # its files first: then only the pipes of the ssh process are short
# room for one pipe (two descriptors), not for the six of Popen's three pipes
in_use = len(os.listdir("/proc/self/fd"))
resource.setrlimit(resource.RLIMIT_NOFILE,
                   (in_use + 2, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
try:
    conn.run("true")
except Unreachable as exc:
    print(exc)
"""


def test_a_runner_short_of_descriptors_is_named_not_a_missing_ssh(tmp_path: Path) -> None:
    """Popen's own pipes fail with EMFILE (``ulimit -n`` of the runner, real): the
    message names that, not 'install openssh-client', and says the target was not asked."""
    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1}\n")
    res = subprocess.run([sys.executable, "-c", _SHORT_OF_DESCRIPTORS, str(tmp_path / "p.yaml")],
                         capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == (
        "could not start the OpenSSH client 'ssh' on this machine: Too many open files "
        "(EMFILE: this process has no descriptor left (ulimit -n)); the target was not "
        "asked"), (res.stdout, res.stderr[-2000:])


@pytest.mark.parametrize(("code", "filename", "words"), [
    (14, "/usr/bin/ssh", "could not start the OpenSSH client 'ssh' on this machine: Bad "
     "address (EFAULT); the target was not asked"),
    (11, None, "could not start the OpenSSH client 'ssh' on this machine: Resource "
     "temporarily unavailable (EAGAIN: no process can be started (ulimit -u, or "
     "pids.max)); the target was not asked"),
    (2, "/usr/bin/ssh", "cannot run the OpenSSH client 'ssh' on this machine: No such "
     "file or directory (install openssh-client)"),
    (13, "/usr/bin/ssh", "cannot run the OpenSSH client /usr/bin/ssh on this machine: "
     "Permission denied (EACCES: found but not executable here: its mode, a noexec "
     "mount, another architecture or a security policy)"),
    (28, "/run/jada/web/ssh.log", "could not prepare the ssh login on this machine: "
     "/run/jada/web/ssh.log: No space left on device (ENOSPC); the target was not asked"),
])
def test_a_failed_start_names_its_cause(code: int, filename: str | None, words: str) -> None:
    """The pure wording for the errors a real run cannot provoke on demand: Popen names
    the program in ``filename`` when its exec failed, another file or none before."""
    exc = OSError(code, os.strerror(code)) if filename is None else \
        OSError(code, os.strerror(code), filename)
    assert spawn_failure(exc, "/usr/bin/ssh") == words
