"""One SSH login and one remote command per target, straight through OpenSSH.

Why the ``ssh`` client: it verifies host keys against the profile's known_hosts exactly as
operators expect (StrictHostKeyChecking). Why no Testinfra, ControlMaster or paramiko in
the way: the suite sends one command per target, so a multiplexing master only adds a
background process, a ``-O check`` and a ``-O exit`` per target (CPU on the runner), and
Testinfra's import and per-command plumbing add start-up time (``make bench`` measures
all three). The login starts as soon as the profile is known (:meth:`Connection.start`);
the script follows on stdin once the controls have registered their probes, so the SSH
handshake overlaps pytest's own start-up. Every remote command runs under ``timeout`` on
the target and ServerAlive probes bound a dead link, so nothing hangs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jada_checks.profile import Target


class Unreachable(Exception):
    """The target could not be asked; the message is one clear reason."""


@dataclass
class Counters:
    """Instrumentation: what this process really did to a target."""

    connections: int = 0
    commands: int = 0


@dataclass
class Result:
    rc: int
    stdout: bytes
    stderr: bytes


_SSH_FAILURES = (
    ("REMOTE HOST IDENTIFICATION HAS CHANGED", "host key changed (possible spoofing); "
     "target not checked"),
    ("host key is known for", "host key not in known_hosts (strict checking)"),
    ("Host key verification failed", "host key verification failed: key not in known_hosts "
     "or changed"),
    ("Permission denied", "authentication refused (key not accepted)"),
    ("Connection refused", "connection refused (sshd not running?)"),
    ("Connection timed out", "connection timed out"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "network unreachable"),
    ("Could not resolve hostname", "host name does not resolve"),
    ("Timeout, server", "connection lost (no answer to keepalives)"),
    ("Connection closed", "connection closed by the target"),
    ("Connection reset", "connection reset by the target"),
    ("Broken pipe", "connection lost"),
)

# The remote side reads the whole script from stdin first, then runs it with stdin from
# /dev/null, so no probe can swallow the script or wait on the SSH channel. POSIX sh.
_REMOTE = 's=$(cat) && exec timeout -k 3 {limit} bash -c "$s" </dev/null'


def classify_ssh_error(stderr: str) -> str:
    """Turn OpenSSH's stderr into one short reason (no key material, no secrets)."""
    for needle, reason in _SSH_FAILURES:
        if needle in stderr:
            if reason == "connection lost":  # say which pipe broke: it tells why
                line = next(ln for ln in stderr.splitlines() if needle in ln)
                return f"{reason} ({line.strip()[:160]})"
            return reason
    last = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return f"ssh failed: {last[-1][:200]}" if last else \
        "connection lost (the SSH session ended without a message)"


def local_problem(ssh: dict[str, Any]) -> str | None:
    """What is wrong on *this* side before ssh runs, named as it is.

    OpenSSH reports a missing or unreadable identity file, or one it refuses because it
    is group/world-accessible (sshkey_perm_ok: owned by the caller and mode & 077), only
    as "Permission denied (publickey)", and a missing known_hosts file only as "host key
    verification failed", which read like the target's fault. Same rules, checked here.
    """
    key = ssh.get("identity_file")
    if key:
        path = Path(key)
        if not path.exists():
            return f"identity file {key} does not exist (ssh.identity_file)"
        if not path.is_file():
            return f"identity file {key} is not a file (ssh.identity_file)"
        if not os.access(path, os.R_OK):
            return f"identity file {key} is not readable by uid {os.getuid()} (ssh.identity_file)"
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            return (f"identity file {key} has mode {stat.S_IMODE(st.st_mode):04o}; OpenSSH "
                    "ignores a private key others can access (chmod 600 it)")
    kh = ssh.get("known_hosts")
    if kh and ssh.get("host_key_policy", "strict") == "strict" and not Path(kh).exists():
        return (f"known_hosts file {kh} does not exist (ssh.known_hosts); with "
                "host_key_policy strict the host key must already be in it")
    return None


@dataclass
class Connection:
    """A target's SSH session for this process: started early, used once, closed at exit."""

    target: Target
    counters: Counters = field(default_factory=Counters)
    _dir: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None
    _running: subprocess.Popen[bytes] | None = None  # the one run() is waiting on
    _closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ssh(self) -> dict[str, Any]:
        assert self.target.ssh is not None
        return self.target.ssh

    def _config(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="jada-ssh-"))
            atexit.register(self.close)
        s = self.ssh
        lines = [
            "Host jada-target",
            f"  HostName {s['host']}",
            f"  Port {s['port']}",
            f"  User {s['user']}",
            "  BatchMode yes",
            "  IdentitiesOnly yes" if s["identity_file"] else "",
            f"  IdentityFile {s['identity_file']}" if s["identity_file"] else "",
            f"  UserKnownHostsFile {s['known_hosts']}" if s["known_hosts"] else "",
            "  GlobalKnownHostsFile /dev/null" if s["known_hosts"] else "",
            "  StrictHostKeyChecking "
            + ("accept-new" if s["host_key_policy"] == "accept-new" else "yes"),
            "  CheckHostIP no",
            "  UpdateHostKeys no",
            f"  ConnectTimeout {s['connect_timeout']}",
            # dead_link_timeout (30 s by default) without an answer means dead: a loaded
            # host can take several seconds to open a session (pam_systemd waits for
            # logind to start the user manager).
            f"  ServerAliveInterval {max(1, s['dead_link_timeout'] // 6)}",
            "  ServerAliveCountMax 6",
            # Client CPU per login: sntrup761 (OpenSSH 9's first choice) ~70 ms,
            # curve25519 ~5 ms; '^' puts these first and keeps the rest of the defaults.
            "" if s.get("post_quantum_kex") else
            "  KexAlgorithms ^curve25519-sha256,curve25519-sha256@libssh.org",
            "  ControlMaster no",
            "  ControlPath none",
            "  LogLevel ERROR",
        ]
        path = self._dir / "ssh_config"
        path.write_text("\n".join(ln for ln in lines if ln) + "\n")
        return path

    def start(self) -> None:
        """Open the SSH session now (login, host key, auth) without a command yet, so the
        handshake runs while pytest is still starting; idempotent: once a session was
        opened (even if :meth:`run` has used it since), no second one."""
        with self._lock:
            if self.counters.connections == 0 and not self._closed and \
                    local_problem(self.ssh) is None:
                try:
                    self._proc = self._spawn()
                except Unreachable:
                    pass  # run() tries again and reports the reason

    def _spawn(self) -> subprocess.Popen[bytes]:
        cfg = self._config()
        remote = _REMOTE.format(limit=int(self.ssh["command_timeout"]))
        try:
            proc = subprocess.Popen(["ssh", "-F", str(cfg), "-T", "jada-target", remote],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:  # no ssh on PATH, or it cannot be executed
            raise Unreachable(f"cannot run the OpenSSH client 'ssh' on this machine: "
                              f"{exc.strerror} (install openssh-client)") from None
        self.counters.connections += 1
        return proc

    def _exchange(self, proc: subprocess.Popen[bytes], script: str) -> Result:
        s = self.ssh
        limit = s["connect_timeout"] + s["command_timeout"] + s["dead_link_timeout"] + 10
        with self._lock:
            self._running = proc
        try:
            out, err = proc.communicate(script.encode(), timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise Unreachable(f"no answer within {limit} s (connect, command and "
                              "keepalive timeouts all passed)") from None
        finally:
            with self._lock:
                self._running = None
        if proc.returncode < 0:  # killed by close(): the run ended first
            raise Unreachable(f"ssh was stopped (signal {-proc.returncode}) before the "
                              "target answered")
        return Result(proc.returncode, out, err)

    def run(self, script: str) -> Result:
        """Run one bash script on the target, as the SSH user, under a timeout; raise
        Unreachable on SSH trouble. Never ``sudo bash``: with ``ssh.sudo`` the script itself
        sudo's only its root reads (see probes.PRELUDE), so sudoers can stay least privilege."""
        problem = local_problem(self.ssh)
        if problem:
            raise Unreachable(problem)
        with self._lock:
            if self._closed:
                raise Unreachable("the run ended before this target was asked")
            proc, self._proc = self._proc or self._spawn(), None
        self.counters.commands += 1
        res = self._exchange(proc, script)
        if res.rc == 255:  # ssh's own failure (the fact script never exits 255)
            reason = classify_ssh_error(_text(res.stderr))
            if not reason.startswith("connection lost"):
                raise Unreachable(reason)
            # A dropped connection (busy link) gets one fresh connection.
            self.counters.commands += 1
            with self._lock:
                if self._closed:
                    raise Unreachable(f"{reason}; the run ended before reconnecting")
                again = self._spawn()
            res = self._exchange(again, script)
            if res.rc == 255:
                retry = classify_ssh_error(_text(res.stderr))
                raise Unreachable(f"{reason}; reconnecting failed: {retry}")
        limit = self.ssh["command_timeout"]
        if res.rc == 124 or res.rc == 137:
            raise Unreachable(f"remote command timed out after {limit} s")
        return res

    def close(self) -> None:
        """Stop this target's ssh: one never used, and one :meth:`run` still waits on
        (the run ended first: interrupted, or a usage error after the early start)."""
        with self._lock:
            proc, self._proc = self._proc, None
            running, self._closed = self._running, True
        if running is not None:
            running.kill()  # run()'s communicate() reaps it and reports why
        if proc is not None:  # started but never used (e.g. the run was interrupted)
            proc.kill()
            proc.communicate()
        if self._dir and self._dir.exists():
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
