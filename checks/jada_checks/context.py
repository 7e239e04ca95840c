"""What a control sees: its target, the expectations, and facts gathered once per target.

:class:`FactStore` lives for the whole pytest process (one per xdist worker) and caches
both facts and failures, so an unreachable host costs one attempt and yields the same
reason for every control of that host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jada_checks.aws.lightsail import LightsailFacts, lightsail_facts
from jada_checks.facts.host import HostFacts, gather
from jada_checks.facts.remote import Connection, Unreachable
from jada_checks.facts.shared import share
from jada_checks.model import CheckError
from jada_checks.profile import Profile, Target

if TYPE_CHECKING:
    import testinfra.host

    from jada_checks.facts.http_facts import HttpFacts

PREFETCH_THREADS = 32


@dataclass
class FactStore:
    profile: Profile
    # The checks that make the target's Lightsail calls, handed in by the run (which knows
    # the catalogue) and asked for only in the prefetch thread, so the controls' import
    # never delays the logins (:meth:`_lightsail_calls`).
    lightsail_checks: Callable[[], list[Callable[[CheckContext], Any]]] = list
    connections: dict[str, Connection] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Future[Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None
    # (kind, target) -> (start, end) of its gathering, monotonic seconds (--jada-stats-json)
    timings: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    # True (set by the run before login() when there are user tests): each target's one
    # login is a ControlMaster that the fact script and every Testinfra command share
    # (facts/shared.py). False: one plain login for the fact script, as ever.
    share_logins: bool = False
    _hosts: dict[str, Any] = field(default_factory=dict)

    def connection(self, target: Target) -> Connection:
        with self._lock:
            if target.name not in self.connections:
                conn = self.connections[target.name] = Connection(target)
                if self.share_logins:
                    share(conn)
            return self.connections[target.name]

    def testinfra_host(self, target: Target) -> testinfra.host.Host:
        """A Testinfra Host whose commands run over ``target``'s one login (started now if
        it has not been); Unreachable, with the reason the facts get, when the target
        cannot be asked. Testinfra is imported here, only when a Host is made."""
        if target.ssh is None:
            raise Unreachable("no ssh section in the profile for this target")
        conn = self.connection(target)
        if conn.mux is None and conn.counters.connections:
            raise RuntimeError(f"{target.name}: logged in without share_logins; set "
                               "FactStore.share_logins before login()")
        login = share(conn)
        login.ready()
        with self._lock:
            host = self._hosts.get(target.name)
        if host is None:
            from jada_checks.facts.testinfra_backend import make_host

            host = make_host(login)
            with self._lock:
                host = self._hosts.setdefault(target.name, host)
        return host

    def cached(self, kind: str, target: Target, make: Callable[[], Any]) -> Any:
        """Compute once per (kind, target), also across threads; a CheckError is cached
        and re-raised to every control that asks."""
        key = (kind, target.name)
        with self._lock:
            future = self._cache.get(key)
            owner = future is None
            if owner:
                future = self._cache[key] = Future()
        assert future is not None
        if owner:
            start = time.monotonic()
            try:
                future.set_result(make())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever asks
                future.set_exception(exc)
            self.timings[key] = (start, time.monotonic())
        return future.result()

    def invalidate(self, target: Target) -> None:
        """Forget a target's facts (used when re-checking until convergence)."""
        with self._lock:
            for key in [k for k in self._cache if k[1] == target.name]:
                del self._cache[key]

    def login(self, targets: list[Target]) -> None:
        """Start the SSH logins of ``targets`` now; :meth:`prefetch` sends the script."""
        for target in targets:
            self.connection(target).start()

    def prefetch(self, wanted: list[tuple[str, Target]]) -> None:
        """Start gathering (side, target) facts in the background, so the SSH round trip
        and the Lightsail calls of every target overlap with each other and with
        pytest's own start-up instead of running one after another."""
        with self._lock:
            wanted = [(s, t) for s, t in wanted if (s, t.name) not in self._cache]
        if not wanted:
            return
        if self._pool is None:
            # Threads only wait (on ssh, on HTTPS): a fleet's logins all start at once.
            self._pool = ThreadPoolExecutor(max_workers=PREFETCH_THREADS,
                                            thread_name_prefix="jada-facts")
        for side, target in wanted:
            if side == "host" and target.ssh is not None:
                self.connection(target).start()  # the login begins before the script exists
            fetch = {"host": self.host_facts, "lightsail": self._lightsail_calls,
                     "http": self.http_facts}[side]
            self._pool.submit(_quietly, fetch, target)

    def _lightsail_calls(self, target: Target) -> None:
        """Every Lightsail call the target's LS controls make (boto3's import first), made
        here so they overlap the SSH round trip instead of following it one by one: the
        controls run once here and their answers are kept (:class:`LightsailFacts` asks
        each question once), so the items read them without a new call."""
        self.lightsail_facts(target).instance()
        ctx = CheckContext(target, self)
        for check in self.lightsail_checks():
            try:
                check(ctx)
            except Exception:  # noqa: BLE001, S112 - the item runs it again and reports
                continue

    def lightsail_facts(self, target: Target) -> LightsailFacts:
        return self.cached("lightsail", target,
                           lambda: lightsail_facts(self.profile.aws, target))

    def http_facts(self, target: Target) -> HttpFacts:
        """The target's service ports probed from here (imported only when asked)."""
        from jada_checks.facts.http_facts import gather_http

        return self.cached("http", target, lambda: gather_http(
            lambda: self.lightsail_facts(target).instance(), target))

    def host_facts(self, target: Target) -> HostFacts:
        if target.ssh is None:
            raise CheckError("no ssh section in the profile for this target")

        def make() -> HostFacts:
            try:
                return gather(self.connection(target), target.expect["unit"])
            except Unreachable as exc:
                ssh = target.ssh or {}
                raise CheckError(f"unreachable: {ssh.get('user')}@{ssh.get('host')}:"
                                 f"{ssh.get('port')}: {exc}") from None

        return self.cached("host", target, make)

    def close(self) -> None:
        """Stop every target's ssh first (one still running means the run ended before
        it answered), then wait for the threads that waited on them; idempotent."""
        for conn in list(self.connections.values()):
            conn.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _quietly(fetch: Callable[[Target], Any], target: Target) -> None:
    """A prefetch's failure is cached for the controls to report; nothing to do here."""
    try:
        fetch(target)
    except Exception:  # noqa: BLE001
        pass


@dataclass
class CheckContext:
    """Handed to every control's check function."""

    target: Target
    store: FactStore

    @property
    def expect(self) -> dict[str, Any]:
        return self.target.expect

    @property
    def host(self) -> HostFacts:
        """Facts of this target's host; raises CheckError if it could not be asked."""
        return self.store.host_facts(self.target)

    @property
    def http(self) -> HttpFacts:
        """This target's service ports as its clients see them (JADA-HTTP)."""
        return self.store.http_facts(self.target)

    @property
    def lightsail(self) -> LightsailFacts:
        """This target's Lightsail facts, shared by its LS controls (one GetInstance each)."""
        return self.store.lightsail_facts(self.target)
