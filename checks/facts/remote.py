"""One SSH connection per target per worker, through Testinfra's OpenSSH backend.

Why OpenSSH rather than paramiko: it verifies host keys against the profile's
known_hosts exactly as operators expect (StrictHostKeyChecking), and ControlMaster keeps
one multiplexed connection per target for the whole run. Every remote command runs under
``timeout`` on the target and ServerAlive probes bound a dead link, so nothing hangs.
"""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import testinfra

from jada_checks.profile import Target


class Unreachable(Exception):
    """The target could not be asked; the message is one clear reason."""


@dataclass
class Counters:
    """Instrumentation: what this worker really did to a target."""

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


def classify_ssh_error(stderr: str) -> str:
    """Turn OpenSSH's stderr into one short reason (no key material, no secrets)."""
    for needle, reason in _SSH_FAILURES:
        if needle in stderr:
            if reason == "connection lost":  # say which pipe broke: it tells why
                line = next(ln for ln in stderr.splitlines() if needle in ln)
                return f"{reason} ({line.strip()[:160]})"
            return reason
    last = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    # A multiplexed session whose master died (keepalives unanswered) ends with no message.
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
    """A target's SSH session for this worker; created lazily, closed at exit."""

    target: Target
    counters: Counters = field(default_factory=Counters)
    _dir: Path | None = None
    _host: Any = None

    @property
    def ssh(self) -> dict[str, Any]:
        assert self.target.ssh is not None
        return self.target.ssh

    def _config(self) -> Path:
        self._dir = Path(tempfile.mkdtemp(prefix="jada-ssh-"))
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
            "  ControlMaster auto",
            f"  ControlPath {self._dir}/cm",
            "  ControlPersist 120",
            "  LogLevel ERROR",
        ]
        path = self._dir / "ssh_config"
        path.write_text("\n".join(ln for ln in lines if ln) + "\n")
        atexit.register(self.close)
        return path

    def _testinfra_host(self) -> Any:
        if self._host is None:
            cfg = self._config()
            self._host = testinfra.get_host(
                "ssh://jada-target", ssh_config=str(cfg), controlpersist=0,
                timeout=self.ssh["connect_timeout"])
        return self._host

    def _master_alive(self) -> bool:
        if self._dir is None or not (self._dir / "cm").exists():
            return False
        try:
            probe = subprocess.run(["ssh", "-F", str(self._dir / "ssh_config"), "-O", "check",
                                    "jada-target"], capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            return False
        return probe.returncode == 0

    def run(self, script: str) -> Result:
        """Run one bash script on the target, as the SSH user, under a timeout; raise
        Unreachable on SSH trouble. Never ``sudo bash``: with ``ssh.sudo`` the script itself
        sudo's only its root reads (see probes.PRELUDE), so sudoers can stay least privilege."""
        problem = local_problem(self.ssh)
        if problem:
            raise Unreachable(problem)
        host = self._testinfra_host()
        if not self._master_alive():
            self.counters.connections += 1
        self.counters.commands += 1
        limit = self.ssh["command_timeout"]
        cmd = f"timeout -k 3 {limit} bash -c {shlex.quote(script)}"
        try:
            out = host.run(cmd)
        except RuntimeError as exc:  # testinfra raises it for ssh's exit status 255
            reason = classify_ssh_error(_text(exc.args[0].stderr_bytes))
            if not reason.startswith("connection lost"):
                raise Unreachable(reason) from None
            # A dropped connection (busy link, dead master) gets one fresh connection: a new
            # control socket, so the retry cannot go through the master that broke.
            self.close()
            host = self._testinfra_host()
            self.counters.connections += 1
            self.counters.commands += 1
            try:
                out = host.run(cmd)
            except RuntimeError as again:
                retry = classify_ssh_error(_text(again.args[0].stderr_bytes))
                raise Unreachable(f"{reason}; reconnecting failed: {retry}") from None
        if out.rc == 124 or out.rc == 137:
            raise Unreachable(f"remote command timed out after {limit} s")
        return Result(out.rc, out.stdout_bytes, out.stderr_bytes)

    def close(self) -> None:
        if self._dir and self._dir.exists():
            try:
                subprocess.run(["ssh", "-F", str(self._dir / "ssh_config"), "-O", "exit",
                                "jada-target"], capture_output=True, timeout=5)
            except subprocess.TimeoutExpired:
                pass  # a wedged master: its socket goes with the directory
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None
        self._host = None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
