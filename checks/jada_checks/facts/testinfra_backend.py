"""A Testinfra backend whose commands run over the target's shared login (shared.py).

Written against pytest-testinfra 10.2 (``testinfra/backend/base.py``: a backend
implements ``run(command, *args)`` and returns ``self.result(rc, command, out, err)``;
``host.py``: ``Host(backend)`` then ``backend.set_host(host)``; ``modules/sudo.py``:
``host.sudo(user)`` rewraps every command with the backend's ``get_sudo_command``).
Testinfra's own ssh backend starts one ``ssh`` per command with its own
ControlPersist master and ssh options; this one uses the profile's: the same host key
policy, key, user, port, bastion and timeouts as the built-in controls, and the same
login. Imported only when a Host is made (the plugin stays light without user tests).

Sudo (docs/least-privilege.md): ``host.sudo()`` runs ``sudo -n /bin/sh -c '<command>'``
(Testinfra's wrapping plus ``-n``: no password prompt can hang a run without a tty), and
only on a target whose profile says ``ssh.sudo: true``; the SSH user root needs no sudo.
When sudo refuses, the command never ran, and its exit status 1 would read as an answer
(``host.file(p).contains(x)`` is ``grep``'s 0 or 1): so a refusal raises SudoRefused,
which the run reports as an *error* naming sudo's own words.
"""

from __future__ import annotations

import shlex
from typing import Any

import testinfra.host
from testinfra.backend.base import BaseBackend, CommandResult

from jada_checks.facts.remote import SudoRefused
from jada_checks.facts.shared import SharedLogin

# sudo's own first words when it does not run the command (sudo 1.9: plugins/sudoers
# logging.c, check.c; src/sudo.c): the command never started, so nothing else came first.
_REFUSALS = ("sudo: a password is required", "sudo: a terminal is required",
             "sudo: sorry, you must have a tty", "is not allowed to execute",
             "is not in the sudoers file", "sudo: account validation failure",
             "sudo: PAM account management error", "sudo: no tty present",
             "may not run sudo on")
_NOT_INSTALLED = ("sudo: not found", "sudo: command not found")
_SUDO = "sudo -n "


class SharedLoginBackend(BaseBackend):
    """Testinfra's view of one profile target."""

    NAME = "jada"

    def __init__(self, login: SharedLogin, **kwargs: Any) -> None:
        self._login = login
        self._conn = login.conn
        super().__init__(login.conn.target.name, **kwargs)

    def get_pytest_id(self) -> str:
        return str(self.hostname)

    def get_sudo_command(self, command: str, sudo_user: str | None) -> str:
        ssh = self._conn.ssh
        if sudo_user is None and ssh["user"] == "root":
            return command  # already root: as the read helper's R does
        if not ssh.get("sudo") and ssh["user"] != "root":
            raise SudoRefused(
                f"host.sudo() on {self.hostname}: ssh.sudo is false in the profile for this "
                f"target, so the suite never calls sudo there; set ssh.sudo: true and give "
                f"{ssh['user']} a sudoers rule for this command (docs/least-privilege.md)")
        who = "" if sudo_user is None else f"-u {shlex.quote(sudo_user)} "
        return f"{_SUDO}{who}/bin/sh -c {shlex.quote(command)}"

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        cmd = self.get_command(command, *args)
        res = self._login.command(cmd)
        if cmd.startswith(_SUDO):
            self._refused(cmd, res.rc, res.stderr.decode("utf-8", "replace"))
        return self.result(res.rc, self.encode(cmd), res.stdout, res.stderr)

    def _refused(self, cmd: str, rc: int, stderr: str) -> None:
        """Raise SudoRefused when sudo itself said no (its words come first)."""
        first = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "")
        user = self._conn.ssh["user"]
        if rc == 127 and any(n in first for n in _NOT_INSTALLED):
            raise SudoRefused(f"sudo is not installed on {self.hostname}, so {user} cannot "
                              f"run {_inner(cmd)!r} as root")
        if rc != 1 or not any(r in first for r in _REFUSALS):
            return
        words = shlex.split(cmd)
        runas = words[words.index("-u") + 1] if "-u" in words[:4] else "root"
        hint = ""
        if "password is required" in first:
            hint = (f"; no NOPASSWD sudoers rule lets {user} run "
                    f"`/bin/sh -c {_inner(cmd)}` as {runas}: a user test's root command "
                    "needs a sudoers rule of its own (docs/least-privilege.md)")
        raise SudoRefused(f"sudo refused to run {_inner(cmd)!r} as {runas} on "
                          f"{self.hostname}: {first[:300]} (exit {rc}){hint}")


def _inner(cmd: str) -> str:
    """The command sudo was asked to run (the argument after ``/bin/sh -c``)."""
    words = shlex.split(cmd)
    return words[words.index("-c") + 1] if "-c" in words else cmd


def make_host(login: SharedLogin) -> testinfra.host.Host:
    """A Testinfra Host over a target's shared login."""
    backend = SharedLoginBackend(login)
    host = testinfra.host.Host(backend)
    backend.set_host(host)
    return host
