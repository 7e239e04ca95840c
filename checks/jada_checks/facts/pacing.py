"""How many SSH logins may be in flight: across the run, and per sshd endpoint.

Why per endpoint: sshd counts a connection as a "startup" from accept() until its child
has authenticated the user (the child writes a byte to its startup pipe and closes it at
``authenticated:``; server_accept_loop() then decrements ``startups``), and with
``MaxStartups start:rate:full`` ("10:30:100" by default, sshd_config(5))
should_drop_connection() drops a new connection with probability
``rate + (100 - rate) * (startups - start) / (full - start)`` percent once ``startups``
reaches ``start``, and always at ``full`` (OpenSSH portable sshd.c, should_drop_connection
and drop_connection; OpenSSH 9.2 is the sandbox's). Many targets behind one address (a
NAT, one bastion) would otherwise see resets before authentication. A login counts as in
flight until the remote side answered (the session's first byte, see remote._REMOTE, sent
once the session runs, i.e. after authentication) or ssh ended."""

from __future__ import annotations

import threading
from typing import Any

# Below sshd's default MaxStartups start value (10), leaving room for the operator's own
# logins and other tools on the same sshd.
MAX_STARTUPS_PER_ENDPOINT = 8
# Logins in all when resets come before authentication, and the first backoff (seconds;
# doubled and jittered each time; the pauses together within the connect timeout).
PRE_AUTH_TRIES = 3
BACKOFF_S = 0.5
RETRYABLE = ("connection reset by the target", "connection closed by the target")


def retryable(rc: int, authenticated: bool, reason: str) -> bool:
    """A failure worth a fresh login: ssh's own exit (255) with a reset or close before
    the session answered (MaxStartups' signature). After authentication never: the fact
    script may have run, and it must not run twice."""
    return rc == 255 and not authenticated and reason in RETRYABLE


def endpoint(ssh: dict[str, Any]) -> str:
    """The sshd a login first talks to: the bastion with ``ssh.proxy_jump``, else host:port."""
    jump = ssh.get("proxy_jump")
    return f"jump:{jump}" if jump else f"{ssh['host']}:{ssh['port']}"


class Pacer:
    """Slots for logins: one global cap (ssh processes alive) and one per endpoint
    (logins not yet authenticated)."""

    def __init__(self, max_parallel: int, per_endpoint: int = MAX_STARTUPS_PER_ENDPOINT):
        self.max_parallel = max_parallel
        self.per_endpoint = per_endpoint
        self._all = threading.BoundedSemaphore(max_parallel)
        self._ends: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self.in_flight = 0  # unauthenticated logins now (tests and stats)
        self.peak_in_flight: dict[str, int] = {}
        self._now: dict[str, int] = {}
        self.alive = 0  # ssh processes holding a global slot now
        self.peak_alive = 0  # the most at once (--jada-stats-json: ssh_peak_processes)

    def _end(self, key: str) -> threading.BoundedSemaphore:
        with self._lock:
            if key not in self._ends:
                self._ends[key] = threading.BoundedSemaphore(self.per_endpoint)
            return self._ends[key]

    def acquire(self, key: str, block: bool = True) -> bool:
        """Take a global slot and an endpoint slot; without ``block``, only if both are free."""
        if not self._all.acquire(blocking=block):
            return False
        if not self._end(key).acquire(blocking=block):
            self._all.release()
            return False
        with self._lock:
            self._now[key] = self._now.get(key, 0) + 1
            self.peak_in_flight[key] = max(self.peak_in_flight.get(key, 0), self._now[key])
            self.alive += 1
            self.peak_alive = max(self.peak_alive, self.alive)
        return True

    def authenticated(self, key: str) -> None:
        """The login is done (or failed): the endpoint's slot is free again."""
        with self._lock:
            self._now[key] -= 1
        self._end(key).release()

    def finished(self) -> None:
        """The ssh process ended: its global slot is free again."""
        with self._lock:
            self.alive -= 1
        self._all.release()


_pacer: Pacer | None = None
_pacer_lock = threading.Lock()


def current() -> Pacer | None:
    """The process's pacer, if any login was made (for --jada-stats-json)."""
    return _pacer


def pacer(max_parallel: int) -> Pacer:
    """The process's pacer; the first caller's ``ssh.max_parallel`` sizes it."""
    global _pacer
    with _pacer_lock:
        if _pacer is None:
            _pacer = Pacer(max_parallel)
        return _pacer
