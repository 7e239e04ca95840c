"""One login per target shared by the fact script and the user's Testinfra commands.

With ``FactStore.share_logins`` (a run with user tests) a target's one SSH login is an
OpenSSH ControlMaster (``ssh -M -N``, a child of this process, no session of its own, so
it lives until :meth:`SharedLogin.close` whatever the sessions over it do; no
ControlPersist daemon to find and stop). Every command, the fact script included, is a
``ssh -o ControlMaster=no -o ControlPath=<socket>`` client that asks the master for one
more session: no handshake, no authentication, nothing for sshd to log (ssh_config(5)
ControlMaster/ControlPath; OpenSSH 9.2 mux.c). Without share_logins nothing here runs:
a master costs the runner a background process per target, which one command does not
repay (``make bench``).

The socket lives in the Connection's private directory (mode 0700) under a short path:
a unix socket's path must fit sun_path (104 bytes on BSD and macOS, 108 on Linux).

**A master that ends mid-run** (the link dropped, the process was killed): a mux client
whose socket does not answer would quietly log in afresh (OpenSSH falls back to a
normal connection). Here it cannot: its ProxyCommand is a marker that fails at once, so
no login happens that the counters do not see. The next command then makes ONE counted
new login (``connections`` becomes 2, as the fact script's one reconnect does without
share_logins); a command that was running when the master ended errors ("connection
lost"), it is not run twice; when the new master ends too, every later command is an
*error* naming why, and nothing logs in again.

Sessions at once: sshd allows ``MaxSessions`` (10 by default, sshd_config(5)) sessions on
one connection; a process runs its tests one after another, so at most the fact script
and one command share the master at a time. A session sshd refuses is an error naming
OpenSSH's words ("Session open refused by peer").
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from jada_checks import processes
from jada_checks.facts.remote import (
    CommandTimeout,
    Connection,
    Result,
    Unreachable,
    local_problem,
    spawn_failure,
)

# The fact script as Connection.run sends it: read whole from stdin, then run with stdin
# from /dev/null under the target's timeout (POSIX sh).
_SCRIPT = 's=$(cat) && exec timeout -k 3 {limit} bash -c "$s" </dev/null'

# New logins after the first, per target and process, when the master has ended.
MAX_RELOGINS = 1
_NO_MASTER = "@@JADA-NO-SHARED-LOGIN"
# A client's fallback when the master does not answer: fail at once, with the marker on
# ssh's stderr, instead of logging in (ssh runs it as ``$SHELL -c "exec ..."``). The
# marker is written while the proxy's stdout is still open: ssh stops the proxy as soon
# as that closes, so a plain ``echo ... 1>&2`` (stdout closed first) may never write it.
_REFUSE_FALLBACK = f"/bin/sh -c 'echo {_NO_MASTER} >&2'"
# What a mux client prints when the master is there but the session failed (mux.c).
_MUX_ERRORS = ("mux_client_", "Session open refused", "Control socket", "control socket")


class SharedLogin:
    """A target's ControlMaster and the commands that run over it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._up = False  # the current master has answered (its socket appeared)
        self._logins = 0
        self._failed: str | None = None  # final: no command can run any more
        self._closed = False
        self._lock = threading.Lock()  # starting and checking the master
        self._clients: set[subprocess.Popen[bytes]] = set()

    @property
    def socket(self) -> Path:
        return self.conn._workdir() / "m"

    @property
    def _log(self) -> Path:
        return self.conn._workdir() / "master.log"

    @property
    def master_pid(self) -> int | None:
        """The master ssh's process id while it runs (tests, diagnostics)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # -- the master -------------------------------------------------------------------

    def start(self) -> None:
        """Begin the login now (non-blocking), so it overlaps pytest's start-up."""
        with self._lock:
            if self._proc is None and self._logins == 0 and not self._closed and \
                    self._failed is None and local_problem(self.conn.ssh) is None:
                try:
                    self._spawn()
                except Unreachable as exc:
                    self._failed = str(exc)

    def master_argv(self) -> list[str]:
        """The login: every option of the profile (Connection.argv), plus ControlMaster."""
        # At the target's LogLevel (INFO: a dead link is named only there), to master.log
        argv = self.conn.argv(None, first=[("ControlMaster", "yes"),
                                           ("ControlPath", str(self.socket))], own_log=False)
        argv.insert(1, "-N")  # no session of its own: it only carries the others
        return argv

    def client_argv(self, remote: str) -> list[str]:
        """One command over the master; never a login of its own (``_REFUSE_FALLBACK``)."""
        # LogLevel ERROR: at INFO a mux client ends with "Shared connection to HOST
        # closed." on stderr, which a check would read as the command's own output.
        return self.conn.argv(remote, first=[
            ("ControlMaster", "no"), ("ControlPath", str(self.socket)),
            ("ProxyCommand", _REFUSE_FALLBACK), ("LogLevel", "ERROR")], own_log=False)

    def _spawn(self) -> None:
        conn = self.conn
        self.socket.unlink(missing_ok=True)  # a stale one would make the master not listen
        argv = self.master_argv()
        if conn.ssh.get("proxy_jump"):
            conn.jump_log.write_text("")
        try:
            with open(self._log, "wb") as log:
                self._proc = processes.popen(argv, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=log,
                                             start_new_session=True)
        except OSError as exc:
            raise Unreachable(spawn_failure(exc, argv[0])) from None
        self._started, self._up = time.monotonic(), False
        self._logins += 1
        conn.counters.connections += 1

    def _login_limit(self) -> int:
        s = self.conn.ssh
        hops = 2 if s.get("proxy_jump") else 1
        return hops * s["connect_timeout"] + s["dead_link_timeout"] + 10

    def _wait(self) -> str | None:
        """None once the master answers; else why it never will (it has ended)."""
        proc = self._proc
        assert proc is not None
        limit = self._login_limit()
        while True:
            if proc.poll() is not None:
                return self._why_ended(proc)
            if self.socket.is_socket():
                self._up = True
                return None
            if time.monotonic() - self._started > limit:
                _stop(proc)
                return (f"no answer within {limit} s (connect and keepalive timeouts "
                        "all passed)")
            time.sleep(0.005)

    def _why_ended(self, proc: subprocess.Popen[bytes]) -> str:
        log = _read_bytes(self._log)
        if log.strip() or self.conn.ssh.get("proxy_jump"):
            why = self.conn._reason(Result(proc.returncode, b"", log))
            if not why.startswith("connection lost (the SSH session ended without"):
                return why
        if proc.returncode < 0:
            return (f"connection lost (the shared connection's ssh process was stopped by "
                    f"signal {-proc.returncode})")
        return f"connection lost (the shared connection's ssh exited {proc.returncode})"

    def ready(self) -> str:
        """The master's socket, logging in first if need be; Unreachable with one clear
        reason when the target cannot be asked (the same reason every time)."""
        with self._lock:
            while True:
                if self._failed is not None:
                    raise Unreachable(self._failed)
                if self._closed:
                    raise Unreachable("the run ended before this target was asked")
                if self._proc is None:
                    problem = local_problem(self.conn.ssh)
                    if problem:
                        raise Unreachable(problem)
                    self._spawn()
                was_up = self._up
                if was_up and self._proc is not None and self._proc.poll() is None:
                    return str(self.socket)  # the common case: up and running
                why = self._wait()
                if why is None:
                    return str(self.socket)
                self._proc = None
                if was_up:
                    why = f"the shared SSH connection ended: {why}"
                retry = was_up or why.startswith("connection lost")
                if not retry or self._logins > MAX_RELOGINS:
                    if self._logins > 1:
                        why += (f"; it had been logged in again {self._logins - 1} time(s) "
                                "already, so no further login")
                    self._failed = why
                    raise Unreachable(why)

    def _master_gone(self) -> None:
        """The socket did not answer: whatever is left of the master is stopped, so the
        next :meth:`ready` logs in again (or says why not)."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                _stop(proc)

    # -- commands over it ---------------------------------------------------------------

    def run(self, remote: str, stdin: bytes | None, timeout: float) -> Result:
        """One remote command line over the master; a command that never reached the
        target (no master) is sent again once, after the one new login."""
        for attempt in (1, 2):
            self.ready()
            master = self._proc
            res = self._client(self.client_argv(remote), stdin, timeout)
            err = res.stderr.decode("utf-8", "replace")
            if res.rc == 255 and _NO_MASTER in err:
                self._master_gone()
                if attempt == 1:
                    continue
                raise Unreachable("the shared SSH connection does not answer (its socket "
                                  "refused the command, also on the second try, after the "
                                  "master was started again); the command was not run")
            self.conn.counters.commands += 1
            if res.rc == 255 and (any(m in err for m in _MUX_ERRORS) or
                                  self._ended(master)):
                why = self._ended_reason(master) or self.conn._reason(res)
                raise Unreachable(f"the shared SSH connection failed during the command: "
                                  f"{why}")
            return res
        raise AssertionError("unreachable")  # pragma: no cover

    def _ended(self, master: subprocess.Popen[bytes] | None) -> bool:
        """Whether the master a client used has ended: its 255 is then the lost link's,
        not the command's (a mux client says nothing when its master dies, mux.c).

        The client sees the master's socket close before the master can be reaped (the
        kernel closes a dying process's files first), and ``Popen.poll`` answers None
        while another thread is waiting on the same process: so a master that still
        "runs" but no longer accepts on its socket has ended too."""
        if master is None or master is not self._proc or master.poll() is not None:
            return True
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.setblocking(False)
            probe.connect(str(self.socket))
        except BlockingIOError:
            return False  # its backlog is full (EAGAIN): it still listens
        except OSError:
            return True  # refused, or the socket is gone
        finally:
            probe.close()
        # it answered; but every master listens on the same path: a new one (another
        # thread's login since the check above) does not make the old one alive
        return master is not self._proc

    def _ended_reason(self, master: subprocess.Popen[bytes] | None) -> str | None:
        """Why that master ended, once it has been reaped (at most 2 s after its socket
        closed); None when it cannot be told."""
        if master is None:
            return None
        try:
            master.wait(timeout=2)  # waits its turn when another thread polls it
        except subprocess.TimeoutExpired:
            return None
        with self._lock:
            return self._why_ended(master)

    def _client(self, argv: list[str], stdin: bytes | None, timeout: float) -> Result:
        with self._lock:
            if self._closed:
                raise Unreachable("the run ended before this target was asked")
            try:
                proc = processes.popen(argv, stdin=subprocess.PIPE if stdin is not None
                                       else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)
            except OSError as exc:
                raise Unreachable(spawn_failure(exc, argv[0])) from None
            self._clients.add(proc)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            proc.communicate()
            raise Unreachable(f"no answer within {timeout:g} s (command and keepalive "
                              "timeouts all passed)") from None
        finally:
            with self._lock:
                self._clients.discard(proc)
        if proc.returncode < 0:
            raise Unreachable(f"ssh was stopped (signal {-proc.returncode}) before the "
                              "target answered")
        return Result(proc.returncode, out, err)

    def script(self, script: str) -> Result:
        """The fact script, as :meth:`Connection.run` sends it without a master; a
        connection lost while it ran gets one more try (over the one new login)."""
        s = self.conn.ssh
        remote = _SCRIPT.format(limit=int(s["command_timeout"]))
        timeout = s["command_timeout"] + s["dead_link_timeout"] + 10
        try:
            res = self.run(remote, script.encode(), timeout)
        except Unreachable as exc:
            if "connection lost" not in str(exc) or self._failed is not None:
                raise
            res = self.run(remote, script.encode(), timeout)
        if res.rc in (124, 137):
            raise Unreachable(f"remote command timed out after {s['command_timeout']} s")
        return res

    def command(self, command: str) -> Result:
        """A shell command (a Testinfra call) under ``ssh.command_timeout`` on the
        target; CommandTimeout when it ran that long (stopped there, never a result)."""
        s = self.conn.ssh
        limit = int(s["command_timeout"])
        remote = f"exec timeout -k 3 {limit} /bin/sh -c {shlex.quote(command)}"
        start = time.monotonic()
        res = self.run(remote, None, limit + 3 + s["dead_link_timeout"] + 10)
        # 124: timeout's TERM ended it; 137: its KILL, 3 s later. A command that exits
        # 124 by itself, before the limit, is its own answer.
        if res.rc in (124, 137) and time.monotonic() - start >= limit:
            raise CommandTimeout(f"the command ran longer than ssh.command_timeout "
                                 f"({limit} s) and was stopped on the target: "
                                 f"{_short(command)}")
        return res

    def close(self) -> None:
        """Stop every client and the master; no ssh process and no socket remain."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
            clients = list(self._clients)
        for client in clients:
            _stop(client)
        if proc is not None:
            # SIGTERM: ssh's cleanup_exit removes its socket and stops its ProxyCommand
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _killpg(proc.pid)  # a ProxyCommand (bastion ssh) left behind, if any
        try:
            self.socket.unlink(missing_ok=True)
        except OSError:
            pass


def share(conn: Connection) -> SharedLogin:
    """``conn``'s shared login, made now if it has none: from then on its login is a
    ControlMaster and the fact script runs over it (Connection.start/run/close)."""
    with conn._lock:
        if conn.mux is None:
            conn.mux = SharedLogin(conn)
        login = conn.mux
    assert isinstance(login, SharedLogin)
    return login


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill a process we started in its own session, with anything it started."""
    _killpg(proc.pid)
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _short(command: str, limit: int = 160) -> str:
    return command if len(command) <= limit else command[:limit] + "..."
