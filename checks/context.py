"""What a control sees: its target, the expectations, and facts gathered once per target.

:class:`FactStore` lives for the whole pytest process (one per xdist worker) and caches
both facts and failures, so an unreachable host costs one attempt and yields the same
reason for every control of that host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.aws.lightsail import LightsailFacts, lightsail_facts
from checks.facts.host import HostFacts, gather
from checks.facts.remote import Connection, Unreachable
from checks.model import CheckError
from checks.profile import Profile, Target


@dataclass
class FactStore:
    profile: Profile
    connections: dict[str, Connection] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def connection(self, target: Target) -> Connection:
        if target.name not in self.connections:
            self.connections[target.name] = Connection(target)
        return self.connections[target.name]

    def cached(self, kind: str, target: Target, make: Callable[[], Any]) -> Any:
        """Compute once per (kind, target); a CheckError is cached and re-raised too."""
        key = (kind, target.name)
        if key not in self._cache:
            try:
                self._cache[key] = make()
            except CheckError as exc:
                self._cache[key] = exc
        value = self._cache[key]
        if isinstance(value, CheckError):
            raise value
        return value

    def invalidate(self, target: Target) -> None:
        """Forget a target's facts (used when re-checking until convergence)."""
        for key in [k for k in self._cache if k[1] == target.name]:
            del self._cache[key]

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
        for conn in self.connections.values():
            conn.close()


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
    def lightsail(self) -> LightsailFacts:
        """This target's Lightsail facts, shared by its LS controls (one GetInstance each)."""
        return self.store.cached(
            "lightsail", self.target, lambda: lightsail_facts(self.store.profile.aws, self.target))
