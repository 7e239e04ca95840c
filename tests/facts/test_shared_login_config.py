"""What the shared login (facts/shared.py) asks OpenSSH for, read back as OpenSSH itself
resolves it (``ssh -G``: the effective configuration, no connection made), and the
Testinfra backend's sudo wrapping and refusal reading (facts/testinfra_backend.py).
The same behaviour on real hosts: tests/facts/test_shared_login.py."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from jada_checks.facts.remote import Connection, SudoRefused, Unreachable
from jada_checks.facts.shared import share
from jada_checks.profile import load_profile


def connection(tmp_path: Path, ssh: str) -> Connection:
    (tmp_path / "p.yaml").write_text(f"version: 1\ntargets:\n  - name: web\n    ssh: {ssh}\n")
    conn = Connection(load_profile(tmp_path / "p.yaml").targets[0])
    share(conn)
    return conn


def resolved(argv: list[str], has_command: bool) -> dict[str, str]:
    """``ssh -G`` of a command line: every option as OpenSSH will use it."""
    args = argv[1:-1] if has_command else argv[1:]
    out = subprocess.run([argv[0], "-G", *args], capture_output=True, text=True, check=True)
    opts: dict[str, str] = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        opts.setdefault(key, value)
    return opts


def test_the_master_is_the_one_login_with_every_option_of_the_profile(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    key.chmod(0o600)
    conn = connection(tmp_path, f"{{host: 192.0.2.7, user: audit, port: 2222, "
                                f"identity_file: {key}, known_hosts: {tmp_path}/kh, "
                                "connect_timeout: 7, post_quantum_kex: false, "
                                "dead_link_timeout: 60}")
    try:
        argv = share(conn).master_argv()
        assert argv[1] == "-N"
        opts = resolved(argv, has_command=False)
        assert opts["controlmaster"] == "true"
        assert opts["controlpath"] == str(share(conn).socket)
        assert opts["hostname"] == "192.0.2.7" and opts["user"] == "audit"
        assert opts["port"] == "2222" and opts["identityfile"] == str(key)
        assert opts["stricthostkeychecking"] == "true" and opts["batchmode"] == "yes"
        assert opts["userknownhostsfile"] == f"{tmp_path}/kh"
        assert opts["connecttimeout"] == "7" and opts["serveraliveinterval"] == "10"
        assert opts["kexalgorithms"].startswith("curve25519-sha256,")
        assert opts["controlpersist"] == "no"  # -N: it lives until close(), not a daemon
    finally:
        conn.close()


def test_a_command_never_makes_a_login_of_its_own(tmp_path: Path) -> None:
    conn = connection(tmp_path, "{host: 192.0.2.7, proxy_jump: 'jump@192.0.2.1'}")
    try:
        opts = resolved(share(conn).client_argv("true"), has_command=True)
        assert opts["controlmaster"] == "false"
        assert opts["controlpath"] == str(share(conn).socket)
        # not the bastion's ProxyCommand: the marker that fails at once
        assert opts["proxycommand"] == "/bin/sh -c 'echo @@JADA-NO-SHARED-LOGIN >&2'"
        master = resolved(share(conn).master_argv(), has_command=False)
        assert "-W '[%h]:%p' jada-jump" in master["proxycommand"]  # the master's hop
    finally:
        conn.close()


def test_a_users_ssh_config_cannot_turn_the_master_off(tmp_path: Path) -> None:
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host *\n  ControlMaster no\n  ControlPath /tmp/elsewhere\n"
                   "  StrictHostKeyChecking no\n  ProxyCommand nc %h %p\n")
    conn = connection(tmp_path, f"{{host: web-1, config_file: {cfg}}}")
    try:
        master = resolved(share(conn).master_argv(), has_command=False)
        assert master["controlmaster"] == "true"
        assert master["controlpath"] == str(share(conn).socket)
        assert master["stricthostkeychecking"] == "true"
        client = resolved(share(conn).client_argv("true"), has_command=True)
        assert client["proxycommand"].endswith("@@JADA-NO-SHARED-LOGIN >&2'")
    finally:
        conn.close()


def test_the_control_socket_fits_sun_path_under_a_long_tmpdir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    long = tmp_path / ("d" * 90)
    long.mkdir()
    monkeypatch.setenv("TMPDIR", str(long))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    conn = connection(tmp_path, "{host: 192.0.2.7}")
    try:
        sock = share(conn).socket
        assert len(str(sock).encode()) + len(".0123456789abcdef") < 104, sock
        assert sock.parent.stat().st_mode & 0o077 == 0  # private to this user
    finally:
        conn.close()
    assert not sock.parent.exists()


def test_a_local_problem_is_the_reason_before_any_login(tmp_path: Path) -> None:
    conn = connection(tmp_path, f"{{host: 192.0.2.7, identity_file: {tmp_path}/none}}")
    try:
        conn.start()
        with pytest.raises(Unreachable, match=r"identity file .*/none does not exist"):
            share(conn).ready()
        assert conn.counters.connections == 0
    finally:
        conn.close()


def backend(tmp_path: Path, ssh: str):  # type: ignore[no-untyped-def]
    from jada_checks.facts.testinfra_backend import SharedLoginBackend

    return SharedLoginBackend(share(connection(tmp_path, ssh)))


def test_sudo_wraps_like_testinfra_but_never_prompts(tmp_path: Path) -> None:
    b = backend(tmp_path, "{host: h, user: audit, sudo: true}")
    assert b.get_sudo_command("cat '/a b'", None) == "sudo -n /bin/sh -c 'cat '\"'\"'/a b'\"'\"''"
    assert b.get_sudo_command("id", "www-data") == "sudo -n -u www-data /bin/sh -c id"
    root = backend(tmp_path, "{host: h, user: root}")
    assert root.get_sudo_command("id", None) == "id"  # root needs no sudo
    assert root.get_sudo_command("id", "nobody") == "sudo -n -u nobody /bin/sh -c id"
    with pytest.raises(SudoRefused, match="ssh.sudo is false in the profile"):
        backend(tmp_path, "{host: h, user: audit}").get_sudo_command("id", None)


@pytest.mark.parametrize(("rc", "stderr", "words"), [
    (1, "sudo: a password is required\n", "sudo: a password is required (exit 1); no "
     "NOPASSWD sudoers rule lets audit run `/bin/sh -c id` as root"),
    (1, "sudo: sorry, you must have a tty to run sudo\n", "must have a tty"),
    (1, "Sorry, user audit is not allowed to execute '/bin/sh -c id' as root on h.\n",
     "is not allowed to execute"),
    (127, "/bin/sh: 1: sudo: not found\n", "sudo is not installed on web"),
])
def test_a_refusal_is_named_in_sudos_words(tmp_path: Path, rc: int, stderr: str,
                                           words: str) -> None:
    b = backend(tmp_path, "{host: h, user: audit, sudo: true}")
    with pytest.raises(SudoRefused) as exc:
        b._refused("sudo -n /bin/sh -c id", rc, stderr)
    assert words in str(exc.value)


@pytest.mark.parametrize(("rc", "stderr"), [
    (1, ""),  # grep's "no match"
    (1, "cat: /x: No such file or directory\n"),
    (2, "sudo: a password is required\n"),  # not sudo's status for a refusal
])
def test_the_commands_own_failure_is_its_answer(tmp_path: Path, rc: int, stderr: str) -> None:
    backend(tmp_path, "{host: h, user: audit, sudo: true}")._refused(
        "sudo -n /bin/sh -c id", rc, stderr)


def test_testinfra_is_imported_only_for_a_host() -> None:
    code = ("import sys, jada_checks.context, jada_checks.facts.shared; "
            "print('testinfra' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
