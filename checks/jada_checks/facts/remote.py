"""One SSH login and one remote command per target, straight through OpenSSH.

Why the ``ssh`` client: it verifies host keys against the profile's known_hosts exactly as
operators expect (StrictHostKeyChecking). Why no Testinfra, ControlMaster or paramiko in
the way: the built-in controls send one command per target, so a multiplexing master only
adds a background process per target (CPU on the runner), and Testinfra's import and
per-command plumbing add start-up time (``make bench`` measures all three). A run with the
user's own Testinfra tests sends many commands: there (:attr:`Connection.mux`) the one
login is a ControlMaster that the script and every command share (``shared.py``), and
Testinfra is imported only when a Host is made (``testinfra_backend.py``). The login
starts as soon as the profile is known (:meth:`Connection.start`); the script follows on
stdin once the controls have registered their probes, so the SSH handshake overlaps
pytest's own start-up. Every remote command runs under ``timeout`` on the target and
ServerAlive probes bound a dead link, so nothing hangs.

Bastions and ssh_config (``ssh.proxy_jump``, ``ssh.config_file``): the bastion's ssh runs
as an explicit ProxyCommand on the suite's own config, so its host key is checked as
strictly as the target's, and a user's ssh_config is read after the policy given as
``-o`` options, which therefore win (see :meth:`Connection.argv`).
"""

from __future__ import annotations

import atexit
import errno
import os
import random
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from jada_checks import processes
from jada_checks.facts import pacing
from jada_checks.profile import Target


class Unreachable(Exception):
    """The target could not be asked; the message is one clear reason."""


class CommandTimeout(Exception):
    """A command over the shared connection ran longer than ``ssh.command_timeout``: it was
    stopped on the target, and its result is not an answer."""


class SudoRefused(Exception):
    """sudo on the target would not run a user test's command as root (or another user):
    the command never ran, so its exit status is not an answer."""


@dataclass
class Counters:
    """Instrumentation: what this process really did to a target."""

    connections: int = 0
    commands: int = 0
    retries: int = 0  # fresh logins after a reset before authentication (MaxStartups)


@dataclass
class Result:
    rc: int
    stdout: bytes
    stderr: bytes


class Shared(Protocol):
    """A login that many commands share (shared.SharedLogin); set as Connection.mux."""

    def start(self) -> None: ...
    def script(self, script: str) -> Result: ...
    def close(self) -> None: ...


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
    # A session the target ends after login: "Connection to HOST closed by remote host."
    # (OpenSSH 9.2 clientloop.c, client_loop: quit_message, printed at any LogLevel).
    ("closed by remote host", "connection closed by the target"),
    ("Connection reset", "connection reset by the target"),
    ("Broken pipe", "connection lost"),
)

# The remote side reads the whole script from stdin first, then runs it with stdin from
# /dev/null, so no probe can swallow the script or wait on the SSH channel. POSIX sh.
# Its first byte (_AUTHED) says the login is done: the session runs, sshd counts it no
# more against MaxStartups, and only after it does the script go out (pacing.py).
_AUTHED = b"J"
_REMOTE = 'printf J; s=$(cat) && exec timeout -k 3 {limit} bash -c "$s" </dev/null'


_CONFIG_LINE = re.compile(r"^(?P<file>\S[^\n]*?):? line (?P<n>\d+): (?P<msg>[^\n]+)$", re.M)


def classify_ssh_error(stderr: str) -> str:
    """Turn OpenSSH's stderr into one short reason (no key material, no secrets)."""
    bad = _CONFIG_LINE.search(stderr)
    if bad:  # readconf.c: "<file> line <n>: <what>", e.g. a typo in ssh.config_file
        return (f"ssh config {bad['file']} line {bad['n']}: {bad['msg'].strip()[:160]}")
    for needle, reason in _SSH_FAILURES:
        if needle in stderr:
            if reason == "connection lost":  # say which pipe broke: it tells why
                line = next(ln for ln in stderr.splitlines() if needle in ln)
                return f"{reason} ({line.strip()[:160]})"
            return reason
    last = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return f"ssh failed: {last[-1][:200]}" if last else \
        "connection lost (the SSH session ended without a message)"


# Why the runner could not start a process, where it is the runner's own shortage.
_RUNNER_SHORT = {errno.EMFILE: "this process has no descriptor left (ulimit -n)",
                 errno.ENFILE: "the machine has no descriptor left (fs.file-max)",
                 errno.EAGAIN: "no process can be started (ulimit -u, or pids.max)",
                 errno.ENOMEM: "out of memory"}


def spawn_failure(exc: OSError, program: str) -> str:
    """Why ``program`` (the OpenSSH client) could not be started, and what helps.

    Popen names the program in ``exc.filename`` when its exec failed (CPython's
    subprocess: the child reports exec's errno); a failure before that (the parent's
    pipes: EMFILE; a log file this side writes) names another file or none."""
    name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    if exc.filename == program:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return (f"cannot run the OpenSSH client 'ssh' on this machine: {exc.strerror} "
                    "(install openssh-client)")
        if exc.errno in (errno.EACCES, errno.ENOEXEC, errno.EPERM):
            return (f"cannot run the OpenSSH client {program} on this machine: "
                    f"{exc.strerror} ({name}: found but not executable here: its mode, a "
                    "noexec mount, another architecture or a security policy)")
    elif exc.filename:
        return (f"could not prepare the ssh login on this machine: {exc.filename}: "
                f"{exc.strerror} ({name}); the target was not asked")
    short = _RUNNER_SHORT.get(exc.errno or 0)
    return (f"could not start the OpenSSH client 'ssh' on this machine: {exc.strerror} "
            f"({name}{': ' + short if short else ''}); the target was not asked")


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
    cfg = ssh.get("config_file")
    if cfg:
        path = Path(cfg)
        if not path.is_file():
            return f"ssh config file {cfg} does not exist or is not a file (ssh.config_file)"
        if not os.access(path, os.R_OK):
            return f"ssh config file {cfg} is not readable by uid {os.getuid()} (ssh.config_file)"
    try:
        parse_jump(ssh.get("proxy_jump"), ssh)
    except ValueError as exc:
        return str(exc)
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
    # per ssh process: its login watcher, whether the session answered, its global slot
    _watch: dict[int, threading.Thread] = field(default_factory=dict)
    _authed: dict[int, bool] = field(default_factory=dict)
    _slots: set[int] = field(default_factory=set)
    # share_logins (shared.share): the one login is a ControlMaster every command uses
    mux: Shared | None = None

    @property
    def ssh(self) -> dict[str, Any]:
        assert self.target.ssh is not None
        return self.target.ssh

    def _workdir(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="jada-ssh-", dir=_short_tmp()))
            atexit.register(self.close)
        return self._dir

    def _config(self) -> Path:
        """The suite's own ssh_config: the target's block (used unless ``ssh.config_file``
        names the user's file) and, with ``ssh.proxy_jump``, the bastion's block."""
        s = self.ssh
        path = self._workdir() / "ssh_config"
        lines = ["Host jada-target", f"  HostName {s['host']}",
                 *(f"  {k} {v}" for k, v in target_options(s, self._proxy()))]
        jump = parse_jump(s.get("proxy_jump"), s)
        if jump is not None:
            lines += ["Host jada-jump", f"  HostName {jump.host}",
                      *(f"  {k} {v}" for k, v in jump_options(s, jump))]
        path.write_text("\n".join(lines) + "\n")
        return path

    def _proxy(self) -> str | None:
        """With ``ssh.proxy_jump``: the bastion's ssh, on the suite's own config (its
        ``jada-jump`` block), errors to :attr:`jump_log`. An explicit ProxyCommand, not
        ProxyJump: OpenSSH hands a jump host only ``-F``, none of the ``-o`` options
        (OpenSSH 9.2 ssh.c, "Setting implicit ProxyCommand from ProxyJump"), and with
        ``ssh.config_file`` that ``-F`` would be the user's file."""
        if not self.ssh.get("proxy_jump"):
            return None
        cfg = self._workdir() / "ssh_config"
        return f"{ssh_binary()} -F {cfg} -E {self.jump_log} -W '[%h]:%p' jada-jump"

    def argv(self, remote: str | None, first: list[tuple[str, str]] | None = None,
             own_log: bool = True) -> list[str]:
        """The ssh command line of one login. Without ``ssh.config_file``: ``-F`` the
        suite's own file. With it: ``-F`` the user's file (its Host/Match blocks see
        ``ssh.host`` as written, e.g. an SSM instance id) and every policy option as
        ``-o``, which ssh(1) reads before any file, and ssh_config(5) keeps "the first
        obtained value" (OpenSSH 9.2 ssh.c: ``-o`` goes through process_config_line
        before process_config_files), so the file cannot weaken host-key checking.
        ``own_log``: ssh's messages go to :attr:`log` (``-E``); the shared login's master
        and clients keep them on stderr, where :mod:`jada_checks.facts.shared` reads them
        per process."""
        cfg = self._config()
        s = self.ssh
        # ``first``: options of the shared login (ControlMaster, ControlPath), given before
        # every other so they win over the policy's "ControlMaster no" (first value wins)
        pre = [a for k, v in first or [] for a in ("-o", f"{k}={v}")]
        cmd = [] if remote is None else [remote]
        log = ["-E", str(self.log)] if own_log else []
        if not s.get("config_file"):
            return [ssh_binary(), *pre, "-F", str(cfg), *log, "-T", "jada-target", *cmd]
        opts = [f"{k}={v}" for k, v in target_options(s, self._proxy())]
        return [ssh_binary(), *pre, "-F", s["config_file"], *log,
                *(a for o in opts for a in ("-o", o)), "-T", s["host"], *cmd]

    @property
    def log(self) -> Path:
        """Where the target's ssh writes its own messages (``-E``, at LogLevel INFO), apart
        from the script's stderr. Why INFO: OpenSSH names a dead link only there
        ("Timeout, server HOST not responding.", OpenSSH 9.2 clientloop.c
        server_alive_check, logit()); at ERROR that ssh exits 255 without a word."""
        return self._workdir() / "ssh.log"

    @property
    def jump_log(self) -> Path:
        """Where the bastion's ssh writes its errors (``-E``), kept apart from the
        target's, so a failure names the hop that failed."""
        return self._workdir() / "jump.log"

    def start(self) -> None:
        """Open the SSH session now (login, host key, auth) without a command yet, so the
        handshake runs while pytest is still starting; idempotent: once a session was
        opened (even if :meth:`run` has used it since), no second one."""
        if self.mux is not None:
            self.mux.start()
            return
        with self._lock:
            if self.counters.connections == 0 and not self._closed and \
                    local_problem(self.ssh) is None:
                try:
                    # only if a slot is free now: the rest log in from run(), paced
                    self._proc = self._spawn(block=False)
                except Unreachable:
                    pass  # run() tries again and reports the reason

    @property
    def _pacer(self) -> pacing.Pacer:
        return pacing.pacer(int(self.ssh.get("max_parallel", 64)))

    def _spawn(self, block: bool = True) -> subprocess.Popen[bytes] | None:
        """Start one login once the pacer has a slot for it (``block``: wait for one;
        else None when none is free)."""
        key = pacing.endpoint(self.ssh)
        if not self._pacer.acquire(key, block=block):
            return None
        remote = _REMOTE.format(limit=int(self.ssh["command_timeout"]))
        argv: list[str] = []
        try:
            argv = self.argv(remote)
            self.log.write_text("")  # this login's messages only (-E appends)
            if self.ssh.get("proxy_jump"):
                self.jump_log.write_text("")  # this login's bastion errors only
            proc = processes.popen(argv,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:  # no ssh on PATH, or it cannot be executed
            self._pacer.authenticated(key)
            self._pacer.finished()
            raise Unreachable(spawn_failure(exc, argv[0] if argv else "ssh")) from None
        self.counters.connections += 1
        self._slots.add(proc.pid)
        watcher = threading.Thread(target=self._await_login, args=(proc, key), daemon=True,
                                   name=f"jada-login-{self.target.name}")
        self._watch[proc.pid] = watcher
        watcher.start()
        return proc

    def _await_login(self, proc: subprocess.Popen[bytes], key: str) -> None:
        """Wait for the session's first byte (login done) or ssh's end; free the
        endpoint's slot either way."""
        try:
            assert proc.stdout is not None
            first = os.read(proc.stdout.fileno(), 1)
        except (OSError, ValueError):
            first = b""
        self._authed[proc.pid] = first == _AUTHED
        self._pacer.authenticated(key)

    def _reaped(self, proc: subprocess.Popen[bytes]) -> None:
        """This ssh process is gone: its global slot is free (once)."""
        if proc.pid in self._slots:
            self._slots.discard(proc.pid)
            self._pacer.finished()

    def _exchange(self, proc: subprocess.Popen[bytes], script: str) -> Result:
        s = self.ssh
        hops = 2 if s.get("proxy_jump") else 1
        limit = hops * s["connect_timeout"] + s["command_timeout"] + s["dead_link_timeout"] + 10
        with self._lock:
            self._running = proc
        try:
            watcher = self._watch.get(proc.pid)
            if watcher is not None:  # the script goes out only after the login is done
                watcher.join(timeout=limit)
                if watcher.is_alive():
                    proc.kill()
            authed = self._authed.get(proc.pid, False)
            try:
                out, err = proc.communicate(script.encode() if authed else b"",
                                            timeout=limit)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise Unreachable(f"no answer within {limit} s (connect, command and "
                                  "keepalive timeouts all passed)") from None
        finally:
            self._reaped(proc)
            with self._lock:
                self._running = None
        if proc.returncode < 0:  # killed by close(): the run ended first
            raise Unreachable(f"ssh was stopped (signal {-proc.returncode}) before the "
                              "target answered")
        return Result(proc.returncode, out, err)

    def authenticated(self, proc: subprocess.Popen[bytes]) -> bool:
        """Whether this login's session answered (so the script may have run)."""
        return self._authed.get(proc.pid, False)

    def _login_and_exchange(self, proc: subprocess.Popen[bytes], script: str) -> Result:
        """One exchange; a reset before authentication (sshd's MaxStartups dropping the
        excess) gets a fresh login after a jittered backoff, at most PRE_AUTH_TRIES logins
        in all, the pauses together within the connect timeout. Never after
        authentication. Only the pauses count: time spent waiting for a login slot
        (thousands of targets queued behind ssh.max_parallel) or on a loaded runner is no
        reason to give a healthy target up."""
        slept = 0.0
        for attempt in range(pacing.PRE_AUTH_TRIES):
            res = self._exchange(proc, script)
            reason = self._reason(res) if res.rc == 255 else ""
            if not pacing.retryable(res.rc, self.authenticated(proc), reason) or \
                    attempt + 1 == pacing.PRE_AUTH_TRIES:
                return res
            pause = pacing.BACKOFF_S * 2 ** attempt * random.uniform(0.5, 1.5)  # noqa: S311
            if slept + pause > float(self.ssh["connect_timeout"]):
                return res
            time.sleep(pause)
            slept += pause
            with self._lock:
                if self._closed:
                    return res
            self.counters.retries += 1
            again = self._spawn()
            assert again is not None
            proc = again
        return res  # pragma: no cover - the loop returns

    def run(self, script: str) -> Result:
        """Run one bash script on the target, as the SSH user, under a timeout; raise
        Unreachable on SSH trouble. Never ``sudo bash``: with ``ssh.sudo`` the script itself
        sudo's only its root reads (see probes.PRELUDE), so sudoers can stay least privilege."""
        problem = local_problem(self.ssh)
        if problem:
            raise Unreachable(problem)
        if self.mux is not None:
            return self.mux.script(script)
        with self._lock:
            if self._closed:
                raise Unreachable("the run ended before this target was asked")
            proc, self._proc = self._proc, None
        if proc is None:
            proc = self._spawn()  # waits for a slot: outside the lock, close() stays free
            with self._lock:
                if self._closed and proc is not None:  # the run ended while it waited
                    proc.kill()
                    proc.communicate()
                    self._reaped(proc)
                    raise Unreachable("the run ended before this target was asked")
        self.counters.commands += 1
        assert proc is not None
        res = self._login_and_exchange(proc, script)
        if res.rc == 255:  # ssh's own failure (the fact script never exits 255)
            reason = self._reason(res)
            if not reason.startswith("connection lost"):
                raise Unreachable(reason)
            # A dropped connection (busy link) gets one fresh connection.
            self.counters.commands += 1
            with self._lock:
                if self._closed:
                    raise Unreachable(f"{reason}; the run ended before reconnecting")
                again = self._spawn(block=False)
            if again is None:
                again = self._spawn()
            assert again is not None
            res = self._exchange(again, script)
            if res.rc == 255:
                retry = self._reason(res)
                raise Unreachable(f"{reason}; reconnecting failed: {retry}")
        limit = self.ssh["command_timeout"]
        if res.rc == 124 or res.rc == 137:
            raise Unreachable(f"remote command timed out after {limit} s")
        return res

    def _reason(self, res: Result) -> str:
        """Why ssh failed, naming the bastion when the failure was on its hop."""
        jump = self.ssh.get("proxy_jump")
        log = _failures(_read(self.jump_log) if jump else "")
        if not log:  # the target's hop: its ssh's own log, and what it printed to stderr
            return classify_ssh_error("\n".join(
                t for t in (_failures(_read(self.log)), _text(res.stderr)) if t))
        opened = re.search(r"open failed: (?:connect failed: )?([^\r\n]+)", log)
        if opened or "stdio forwarding failed" in log:
            why = opened[1].strip()[:160] if opened else "stdio forwarding failed"
            return f"the bastion {jump} (ssh.proxy_jump) could not reach the target: {why}"
        return f"bastion {jump} (ssh.proxy_jump): {classify_ssh_error(log)}"

    def close(self) -> None:
        """Stop this target's ssh: one never used, and one :meth:`run` still waits on
        (the run ended first: interrupted, or a usage error after the early start)."""
        with self._lock:
            proc, self._proc = self._proc, None
            running, self._closed = self._running, True
        if self.mux is not None:
            self.mux.close()  # the ControlMaster, and every command still running over it
        if running is not None:
            running.kill()  # run()'s communicate() reaps it and reports why
        if proc is not None:  # started but never used (e.g. the run was interrupted)
            proc.kill()
            proc.communicate()
            self._reaped(proc)
        if self._dir and self._dir.exists():
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None


# A unix socket's path must fit sun_path (104 bytes on the BSDs and macOS, 108 on Linux,
# NUL included); the ControlPath is <dir>/m and OpenSSH binds <path>.<16 random> first.
_SOCKET_DIR_MAX = 104 - 1 - len("/m.") - 16


def _short_tmp() -> str | None:
    """The temp dir for a Connection's files: ``$TMPDIR`` unless it is too long for a
    ControlPath, then /tmp."""
    default = tempfile.gettempdir()
    return None if len(default.encode()) + len("/jada-ssh-XXXXXXXX") <= _SOCKET_DIR_MAX \
        else "/tmp"


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _failures(log: str) -> str:
    """An ssh log without its INFO lines about a hop that went well (``_JUMP_INFO``)."""
    return "\n".join(ln for ln in log.splitlines()
                     if ln.strip() and not ln.startswith(_JUMP_INFO))


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def ssh_binary() -> str:
    """The OpenSSH client this run uses, by absolute path when it is on PATH, so the
    bastion's ssh (started by /bin/sh from ProxyCommand) is the same program."""
    return shutil.which("ssh") or "ssh"


@dataclass(frozen=True)
class Jump:
    """One bastion, ``[user@]host[:port]`` as OpenSSH's -J writes it."""

    user: str
    host: str
    port: int


# What an ssh (the bastion's, the target's) logs at INFO when its hop went well (accept-new
# recording a key; OpenSSH 9.2 sshconnect.c, sshconnect2.c): not a failure of the hop.
_JUMP_INFO = ("Warning: Permanently added", "Authenticated to ")

_JUMP = re.compile(r"^(?:(?P<user>[^@\s:/]+)@)?(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|"
                   r"(?P<host>[A-Za-z0-9._-]+))(?::(?P<port>\d{1,5}))?$")


def parse_jump(value: str | None, ssh: dict[str, Any]) -> Jump | None:
    """``ssh.proxy_jump`` parsed; the user defaults to ``ssh.user`` and the port to 22.
    The schema's pattern has already refused anything else."""
    if not value:
        return None
    m = _JUMP.match(value)
    if m is None:
        raise ValueError(f"ssh.proxy_jump {value!r}: expected [user@]host[:port]")
    port = int(m["port"] or 22)
    if not 1 <= port <= 65535:
        raise ValueError(f"ssh.proxy_jump {value!r}: port {port} is not in 1-65535")
    return Jump(m["user"] or ssh["user"], m["v6"] or m["host"], port)


def _policy(s: dict[str, Any]) -> list[tuple[str, str]]:
    """Host-key, authentication and liveness options one hop needs, in ssh_config words.
    The same for the target and its bastion: the bastion is checked as strictly."""
    opts = [("BatchMode", "yes")]
    if s["identity_file"]:
        opts += [("IdentitiesOnly", "yes"), ("IdentityFile", s["identity_file"])]
    if s["known_hosts"]:
        opts += [("UserKnownHostsFile", s["known_hosts"]), ("GlobalKnownHostsFile", "/dev/null")]
    opts += [
        ("StrictHostKeyChecking", "accept-new" if s["host_key_policy"] == "accept-new" else "yes"),
        # Keys come from known_hosts only: no helper command, no DNS (SSHFP) as a source.
        ("KnownHostsCommand", "none"),
        ("VerifyHostKeyDNS", "no"),
        ("CheckHostIP", "no"),
        ("UpdateHostKeys", "no"),
        ("ConnectTimeout", str(s["connect_timeout"])),
        # dead_link_timeout (30 s by default) without an answer means dead: a loaded
        # host can take several seconds to open a session (pam_systemd waits for
        # logind to start the user manager).
        ("ServerAliveInterval", str(max(1, s["dead_link_timeout"] // 6))),
        ("ServerAliveCountMax", "6"),
    ]
    if not s.get("post_quantum_kex"):
        # Client CPU per login: sntrup761 (OpenSSH 9's first choice) ~70 ms,
        # curve25519 ~5 ms; '^' puts these first and keeps the rest of the defaults.
        opts.append(("KexAlgorithms", "^curve25519-sha256,curve25519-sha256@libssh.org"))
    opts += [("ControlMaster", "no"), ("ControlPath", "none"), ("LogLevel", "ERROR")]
    return opts


def target_options(s: dict[str, Any], proxy: str | None = None) -> list[tuple[str, str]]:
    """The target's options; ``proxy``: the ProxyCommand that reaches it via its bastion.
    Its log (``-E``, :attr:`Connection.log`) keeps INFO: a dead link is named there."""
    opts = [("Port", str(s["port"])), ("User", s["user"]),
            *(("LogLevel", "INFO") if k == "LogLevel" else (k, v) for k, v in _policy(s))]
    if proxy:
        opts.append(("ProxyCommand", proxy))
    return opts


def jump_options(s: dict[str, Any], jump: Jump) -> list[tuple[str, str]]:
    """The bastion's block: same key, known_hosts and strictness as the target. Its log
    (a file of its own) keeps INFO: why a channel to the target failed is logged there."""
    return [("Port", str(jump.port)), ("User", jump.user),
            *(("LogLevel", "INFO") if k == "LogLevel" else (k, v) for k, v in _policy(s))]
