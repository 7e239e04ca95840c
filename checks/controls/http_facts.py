"""Which address a target's clients reach, and its service ports probed once per run.

The address is the profile's ``lightsail.public_ip``, else ``ssh.host``; a target known
only by its Lightsail instance uses the public IP GetInstance reports. A DNS name is
resolved here (bounded, like JADA-LS-02) and is the default TLS server name. Whether the
target as a whole could be reached is decided once, so an unreachable address is one
error per target, after one connect timeout, never a cascade per port and control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jada_checks.facts.http import Probe, probe_all
from jada_checks.hostnames import is_address, resolve
from jada_checks.model import CheckError

if TYPE_CHECKING:
    from jada_checks.context import FactStore
    from jada_checks.profile import Target


@dataclass(frozen=True)
class HttpFacts:
    address: str
    probes: tuple[Probe, ...]

    def require_reachable(self) -> None:
        """CheckError (one reason per target) when the address itself could not be
        reached: no route, or every port timed out (a filter on every service port looks
        the same from here, so that is not called a pass or a fail)."""
        probes = self.probes
        bad = [p for p in probes if p.connect == "unreachable"]
        if bad:
            raise CheckError(f"http: {self.address} is unreachable: {bad[0].connect_detail}")
        if probes and all(p.connect == "timeout" for p in probes):
            ports = ", ".join(str(p.port) for p in probes)
            raise CheckError(f"http: {self.address} is unreachable: connect to port(s) "
                             f"{ports} timed out ({probes[0].connect_detail.split(' after ')[-1]}"
                             "; the host is down or every service port is filtered)")


def client_address(store: FactStore, target: Target) -> tuple[str, str]:
    """(address to connect to, the name clients use) for ``target``."""
    profile_host = target.expected_public_ip
    if profile_host is None:
        if target.lightsail is None:
            raise CheckError("no address: the target has neither ssh.host, "
                             "lightsail.public_ip nor a Lightsail instance")
        ip = store.lightsail_facts(target).instance().get("publicIpAddress")
        if not isinstance(ip, str) or not ip:
            raise CheckError("no address: the GetInstance answer has no "
                             "instance.publicIpAddress and the profile names none")
        return ip, ip
    if is_address(profile_host):
        return profile_host, profile_host
    what = "lightsail.public_ip" if (target.lightsail or {}).get("public_ip") else "ssh.host"
    timeout = max(e["connect_timeout"] for e in target.expect["http"])
    return resolve(profile_host, timeout, what)[0], profile_host


def gather_http(store: FactStore, target: Target) -> HttpFacts:
    address, name = client_address(store, target)
    entries = [dict(e, server_name=e.get("server_name") or name)
               for e in target.expect["http"]]
    return HttpFacts(address, tuple(probe_all(address, entries)))
