"""One login per target for the fact script and the user's Testinfra commands
(``FactStore.share_logins``, ``FactStore.testinfra_host``; facts/shared.py and
facts/testinfra_backend.py), proven on real sandbox hosts: sshd's own count of accepted
logins, an unreachable target, a master killed mid-run, a command over its time limit,
nothing left behind by close(), sudo where sudoers allows it and an error naming sudo's
words where it does not, and no secret in any message."""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from jada_checks.context import FactStore
from jada_checks.controls import catalogue
from jada_checks.facts.remote import CommandTimeout, Connection, SudoRefused, Unreachable
from jada_checks.model import CheckError
from jada_checks.profile import Profile, Target, load_profile
from tests.support.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("compliant", "own-sudo", "bastion", "behind-bastion")

COUNT = "journalctl -q -u ssh.service -o cat | grep -c '^Accepted' || true"
CALLS = 40
_N = itertools.count()


def accepted(sandbox: SandboxHarness, host: str) -> int:
    """sshd's count of accepted logins so far, read without logging in (nsenter)."""
    return int(sandbox.sandbox.exec(host, COUNT).strip() or 0)


def logins_since(sandbox: SandboxHarness, host: str, before: int) -> int:
    return accepted(sandbox, host) - before


def profile(sandbox: SandboxHarness, tmp_path: Path, host: str, **ssh: Any) -> Profile:
    """The sandbox's profile of ``host`` with its ssh section changed."""
    path = sandbox.profile_for([host], tmp_path / f"profile-{host}-{next(_N)}.yaml")
    data = yaml.safe_load(path.read_text())
    data["targets"][0]["ssh"].update(ssh)
    path.write_text(yaml.safe_dump(data))
    catalogue()  # the controls register the probes of the fact script
    return load_profile(path)


@pytest.fixture
def store() -> Iterator[Callable[[Profile], tuple[FactStore, Target]]]:
    """FactStores with share_logins, as a run with user tests makes them; closed after."""
    made: list[FactStore] = []

    def make(prof: Profile) -> tuple[FactStore, Target]:
        s = FactStore(prof)
        s.share_logins = True
        made.append(s)
        return s, prof.targets[0]

    yield make
    for s in made:
        s.close()


Make = Callable[[Profile], tuple[FactStore, Target]]


def ssh_processes(socket: Path) -> list[str]:
    res = subprocess.run(["pgrep", "-a", "-f", str(socket)], capture_output=True, text=True)
    return [ln for ln in res.stdout.splitlines() if str(os.getpid()) not in ln.split()[0]]


def test_one_login_for_the_facts_and_every_testinfra_command(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    facts_store, target = store(profile(sandbox, tmp_path, "compliant"))
    before = accepted(sandbox, "compliant")
    facts_store.login([target])
    facts = facts_store.host_facts(target)
    assert facts.section("unit_show").require_ok().out.count("MainPID=") == 1
    host = facts_store.testinfra_host(target)
    assert repr(host) == "<testinfra.host.Host compliant>"
    assert host.file("/etc/systemd/system/jada-agent.service").exists
    assert host.service("jada-agent.service").is_running
    for i in range(CALLS - 2):
        assert host.check_output("echo %s", f"call {i}") == f"call {i}"
    conn = facts_store.connections["compliant"]
    assert (conn.counters.connections, conn.counters.commands) >= (1, CALLS + 1)
    assert conn.counters.connections == 1
    assert logins_since(sandbox, "compliant", before) == 1


def test_through_a_bastion_one_login_on_each_hop_and_nothing_left(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    """ssh.proxy_jump: the master reaches the target through the bastion's ssh -W (its
    ProxyCommand); the commands never start a hop of their own; close() stops both."""
    path = sandbox.profile_for(["bastion", "behind-bastion"], tmp_path / "jump.yaml")
    data = yaml.safe_load(path.read_text())
    data["targets"] = [t for t in data["targets"] if t["name"] == "behind-bastion"]
    assert data["targets"][0]["ssh"]["proxy_jump"]
    path.write_text(yaml.safe_dump(data))
    s, target = store(load_profile(path))
    before = {h: accepted(sandbox, h) for h in ("bastion", "behind-bastion")}
    host = s.testinfra_host(target)
    for i in range(20):
        assert host.check_output("echo %s", str(i)) == str(i)
    assert s.host_facts(target).section("unit_show").require_ok()
    assert {h: logins_since(sandbox, h, before[h]) for h in before} == \
        {"bastion": 1, "behind-bastion": 1}
    conn = s.connections["behind-bastion"]
    assert conn.mux is not None
    jump_config = str(conn._workdir() / "ssh_config")
    assert ssh_processes(Path(jump_config))  # the bastion's ssh -W, started by the master
    s.close()
    assert ssh_processes(Path(jump_config)) == []


def test_unreachable_target_names_the_cause_the_facts_got(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    s, target = store(profile(sandbox, tmp_path, "compliant", port=1, connect_timeout=3))
    s.login([target])
    with pytest.raises(CheckError) as facts_error:
        s.host_facts(target)
    with pytest.raises(Unreachable) as host_error:
        s.testinfra_host(target)
    reason = "connection refused (sshd not running?)"
    assert str(host_error.value) == reason
    assert str(facts_error.value).endswith(f":1: {reason}")
    conn = s.connections["compliant"]
    assert conn.counters.connections == 1  # asked once; the reason is kept
    assert conn.mux is not None and conn.mux.master_pid is None


def test_an_unknown_host_key_is_refused_before_any_command(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    """Strict known_hosts holds for the shared login as for the plain one."""
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    s, target = store(profile(sandbox, tmp_path, "compliant", known_hosts=str(empty)))
    with pytest.raises(Unreachable) as exc:
        s.testinfra_host(target)
    assert str(exc.value) == "host key not in known_hosts (strict checking)"
    assert empty.read_text() == ""  # nothing recorded


def test_a_master_killed_mid_run_gets_one_counted_login_then_an_error(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    s, target = store(profile(sandbox, tmp_path, "compliant"))
    before = accepted(sandbox, "compliant")
    host = s.testinfra_host(target)
    assert host.check_output("echo one") == "one"
    conn = s.connections["compliant"]
    assert conn.mux is not None
    first = conn.mux.master_pid
    assert first is not None
    kill_master(conn)
    # the next command logs in again, once, and that login is counted
    assert host.check_output("echo two") == "two"
    assert conn.counters.connections == 2
    second = conn.mux.master_pid
    assert second not in (None, first)
    kill_master(conn)
    with pytest.raises(Unreachable) as exc:
        host.run("echo three")
    msg = str(exc.value)
    assert msg.startswith("the shared SSH connection ended: connection lost (the shared "
                          "connection's ssh process was stopped by signal 9)"), msg
    assert msg.endswith("it had been logged in again 1 time(s) already, so no further "
                        "login"), msg
    with pytest.raises(Unreachable, match="no further login"):  # the same, every time
        s.testinfra_host(target)
    assert conn.counters.connections == 2
    assert logins_since(sandbox, "compliant", before) == 2


def kill_master(conn: Connection) -> None:
    """SIGKILL the master (no goodbye, its socket stays) and wait until it is gone."""
    assert conn.mux is not None
    pid = conn.mux.master_pid
    assert pid is not None
    os.kill(pid, 9)
    deadline = time.monotonic() + 10
    while conn.mux.master_pid is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert conn.mux.socket.exists()  # a stale socket: a client would fall back to a login


def test_a_client_never_logs_in_by_itself(sandbox: SandboxHarness, tmp_path: Path,
                                          store: Make) -> None:
    """The race the store cannot see: the master dies between the check and the command.
    OpenSSH's client would then log in afresh; ours fails at once, with the marker."""
    s, target = store(profile(sandbox, tmp_path, "compliant"))
    s.testinfra_host(target)
    conn = s.connections["compliant"]
    assert conn.mux is not None
    kill_master(conn)
    before = accepted(sandbox, "compliant")
    res = subprocess.run(conn.mux.client_argv("echo logged-in"), capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 255 and "logged-in" not in res.stdout, res
    assert "@@JADA-NO-SHARED-LOGIN" in res.stderr, res.stderr
    assert logins_since(sandbox, "compliant", before) == 0


@dataclass
class LongCommand:
    """A Testinfra command that runs for 120 s, in a thread, seen started on the host."""

    marker: str
    worker: threading.Thread
    errors: list[BaseException] = field(default_factory=list)
    results: list[object] = field(default_factory=list)
    seen_after: float = 0.0

    def outcome(self) -> tuple[object, ...]:
        return self.errors, self.results, f"marker seen after {self.seen_after:.1f} s"


def start_long_command(sandbox: SandboxHarness, host: Any) -> LongCommand:
    """Start it and return once the host shows its marker (a fixed 1.5 s wait lost the
    race on a loaded run: the command started after the fault). 120 s: a slow poll here
    still faults it mid-command (a CI run saw it end normally after a 10 s sleep); sshd
    ends it when the link drops."""
    marker = f"/tmp/jada-midrun-{os.getpid()}-{next(_N)}"
    cmd = LongCommand(marker, threading.Thread(target=lambda: None))

    def slow() -> None:
        try:
            cmd.results.append(host.run(f"echo x >> {marker}; sleep 120"))
        except BaseException as exc:  # noqa: BLE001 - checked by the test
            cmd.errors.append(exc)

    cmd.worker = threading.Thread(target=slow)
    start = time.monotonic()
    cmd.worker.start()
    while sandbox.sandbox.exec("compliant", f"test -e {marker} && echo y || true").strip() != "y":
        assert time.monotonic() < start + 60, "the command never started"
        time.sleep(0.1)
    cmd.seen_after = time.monotonic() - start
    return cmd


def assert_it_errored_once(cmd: LongCommand, host: Any, conn: Connection) -> None:
    """The command errors "connection lost", ran once, and the next command has its one
    new login."""
    assert not cmd.worker.is_alive(), ("the command still waits after its master died",
                                       cmd.outcome())
    assert len(cmd.errors) == 1 and isinstance(cmd.errors[0], Unreachable), cmd.outcome()
    assert str(cmd.errors[0]).startswith("the shared SSH connection failed during the "
                                         "command: connection lost"), cmd.errors[0]
    assert host.check_output(f"cat {cmd.marker}; rm -f {cmd.marker}") == "x"
    assert conn.counters.connections == 2


def test_a_command_running_when_the_master_dies_errors_and_is_not_run_again(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    s, target = store(profile(sandbox, tmp_path, "compliant"))
    host = s.testinfra_host(target)
    conn = s.connections["compliant"]
    cmd = start_long_command(sandbox, host)
    kill_master(conn)
    cmd.worker.join(150)
    assert_it_errored_once(cmd, host, conn)


def test_a_command_whose_master_dies_while_another_thread_waits_on_it_errors(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    """The race a CI run hit: Popen.poll answers None while another thread waits on the
    same process (CPython holds the process's wait lock), so the master still "ran" when
    its client's 255 came, and that 255 was returned as the command's own answer. Here
    that other thread holds the lock for the whole fault: still an error."""
    s, target = store(profile(sandbox, tmp_path, "compliant"))
    host = s.testinfra_host(target)
    conn = s.connections["compliant"]
    assert conn.mux is not None and conn.mux._proc is not None
    master = conn.mux._proc
    with master._waitpid_lock:  # another thread waiting on the master (subprocess.py)
        cmd = start_long_command(sandbox, host)
        os.kill(master.pid, 9)
        cmd.worker.join(60)
    assert_it_errored_once(cmd, host, conn)


def test_a_command_that_exits_255_itself_is_its_own_answer(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    """The other side of the lost-link check: with the master alive (its socket accepts
    the probe), a 255 is the command's own, returned as such; no new login, and the
    master's log has nothing from the probe."""
    s, target = store(profile(sandbox, tmp_path, "compliant"))
    host = s.testinfra_host(target)
    conn = s.connections["compliant"]
    res = host.run("echo out; echo err >&2; exit 255")
    assert (res.rc, res.stdout, res.stderr) == (255, "out\n", "err\n")
    assert host.run("true").rc == 0
    assert conn.counters.connections == 1
    assert conn.mux is not None
    assert (conn._workdir() / "master.log").read_text().strip() == ""


def test_close_leaves_no_ssh_process_and_no_socket(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    s, target = store(profile(sandbox, tmp_path, "compliant"))
    host = s.testinfra_host(target)
    assert host.run("true").rc == 0
    conn = s.connections["compliant"]
    assert conn.mux is not None
    sock, pid = conn.mux.socket, conn.mux.master_pid
    assert sock.is_socket() and pid is not None and ssh_processes(sock)
    assert len(str(sock).encode()) < 104
    s.close()
    assert not sock.exists() and not sock.parent.exists()
    assert ssh_processes(sock) == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(Unreachable, match="the run ended"):
        host.run("true")


def test_a_command_over_its_time_limit_errors_and_is_stopped(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    s, target = store(profile(sandbox, tmp_path, "compliant", command_timeout=2))
    host = s.testinfra_host(target)
    start = time.monotonic()
    with pytest.raises(CommandTimeout) as exc:
        host.run("sleep 57; echo late")
    assert time.monotonic() - start < 15
    assert str(exc.value) == ("the command ran longer than ssh.command_timeout (2 s) and "
                              "was stopped on the target: sleep 57; echo late")
    # nothing left running there ([7]: not the pgrep's own shell)
    assert host.run("pgrep -f 'sleep 5[7]'").rc == 1
    # a command that exits 124 by itself, in time, is its own answer (its own login with a
    # roomy limit: on a loaded run even "exit 124" took more than 2 s)
    s2, target2 = store(profile(sandbox, tmp_path, "compliant", command_timeout=60))
    assert s2.testinfra_host(target2).run("exit 124").rc == 124


def audit(sandbox: SandboxHarness, tmp_path: Path, **ssh: Any) -> Profile:
    return profile(sandbox, tmp_path, "own-sudo", user="jada-audit", **ssh)


def test_sudo_runs_what_sudoers_allows(sandbox: SandboxHarness, tmp_path: Path,
                                       store: Make) -> None:
    s, target = store(audit(sandbox, tmp_path, sudo=True))
    host = s.testinfra_host(target)
    assert host.check_output("id -un") == "jada-audit"
    plain = host.run("/usr/sbin/nft list ruleset")
    assert plain.rc != 0 and "Operation not permitted" in plain.stderr  # needs root
    with host.sudo():
        ok = host.run("/usr/sbin/nft list ruleset")
        with pytest.raises(SudoRefused, match="password is required"):
            host.run("id -un")  # the rule allows one command, no more
    assert ok.rc == 0 and ok.stderr == "", ok
    # the built-in controls' root reads still go through the read helper only
    facts = s.host_facts(target)
    assert facts.section("sudo_preflight").out.startswith("sudo "), facts.sections
    assert "refused" not in facts.section("sudo_preflight").out


def test_sudo_refusal_is_an_error_naming_sudo_and_the_rule(
        sandbox: SandboxHarness, tmp_path: Path, store: Make) -> None:
    s, target = store(audit(sandbox, tmp_path, sudo=True))
    host = s.testinfra_host(target)
    assert host.file("/etc/shadow").exists  # (Testinfra asks uname once, without sudo)
    start = time.monotonic()
    with pytest.raises(SudoRefused) as exc, host.sudo():
        # grep's 1 ("not there") would be a false answer: the refusal must raise
        host.file("/etc/shadow").contains("root:")
    assert time.monotonic() - start < 10  # no password prompt to wait on
    assert str(exc.value) == (
        "sudo refused to run 'grep -qs -- root: /etc/shadow' as root on own-sudo: sudo: a "
        "password is required (exit 1); no NOPASSWD sudoers rule lets jada-audit run "
        "`/bin/sh -c grep -qs -- root: /etc/shadow` as root: a user test's root command "
        "needs a sudoers rule of its own (docs/least-privilege.md)")
    with pytest.raises(SudoRefused, match="as nobody on own-sudo: sudo: a password"), \
            host.sudo("nobody"):
        host.run("/usr/sbin/nft list ruleset")


def test_sudo_needs_ssh_sudo_in_the_profile(sandbox: SandboxHarness, tmp_path: Path,
                                            store: Make) -> None:
    s, target = store(audit(sandbox, tmp_path))
    host = s.testinfra_host(target)
    with pytest.raises(SudoRefused) as exc, host.sudo():
        host.run("/usr/sbin/nft list ruleset")
    assert str(exc.value).startswith("host.sudo() on own-sudo: ssh.sudo is false in the "
                                     "profile for this target, so the suite never calls "
                                     "sudo there"), exc.value


def test_no_secret_in_any_error(sandbox: SandboxHarness, tmp_path: Path, store: Make,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "jada-secret-4b1d0c7e"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    key = sandbox.sandbox.key
    body = [ln for ln in Path(key).read_text().splitlines() if not ln.startswith("-----")]
    messages = []
    for ssh, command in (({"port": 1, "connect_timeout": 3}, None),
                         ({"sudo": True}, "cat /etc/shadow"),
                         ({"command_timeout": 1}, "sleep 9")):
        s, target = store(audit(sandbox, tmp_path, **ssh))
        try:
            host = s.testinfra_host(target)
            if ssh.get("sudo"):
                with host.sudo():
                    host.run(command)
            else:
                host.run(command)
        except (Unreachable, SudoRefused, CommandTimeout) as exc:
            messages.append(str(exc))
    assert len(messages) == 3, messages
    for msg in messages:
        assert secret not in msg
        assert not any(line in msg for line in body if len(line) > 8), msg
