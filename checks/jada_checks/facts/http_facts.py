"""Which address a target's clients reach, and its service ports probed once per run.

The address is the profile's ``lightsail.public_ip``, else ``ssh.host``; a target known
only by its Lightsail instance uses the public IP GetInstance reports. A DNS name is
resolved here (bounded, like JADA-LS-02) and is the default TLS server name. Whether the
target as a whole could be reached is decided once, so an unreachable address is one
error per target, after one connect timeout, never a cascade per port and control.

A service port whose connect times out is *filtered* only if something else at the same
address answers: another service port, or the reference, the target's ``ssh.port``
probed at the client address (a bare TCP connect, at the same time as the service
ports). That address is the one clients use, which may not be ``ssh.host`` (SSH over a
private address or a bastion): there the Lightsail firewall may well close the SSH port,
the reference times out too, and the target is an error as before, never a pass and never
a "filtered" that was not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jada_checks.facts.http import Knock, Probe, probe_target
from jada_checks.hostnames import is_address, resolve
from jada_checks.model import CheckError

if TYPE_CHECKING:
    from jada_checks.profile import Target

# The target's GetInstance answer, asked only when the profile names no address.
Instance = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class HttpFacts:
    address: str
    probes: tuple[Probe, ...]
    reference: Knock | None = None  # ssh.port at the same address; None without ssh

    def require_reachable(self) -> None:
        """CheckError (one reason per target) when the address itself could not be
        reached: no route, or every service port timed out and so did the reference (or
        there is none): a host that is down looks the same from here, so that is not
        called a pass or a fail."""
        probes = self.probes
        bad = [p for p in probes if p.connect == "unreachable"]
        if bad:
            raise CheckError(f"http: {self.address} is unreachable: {bad[0].connect_detail}")
        if not probes or not all(p.connect == "timeout" for p in probes):
            return
        ref = self.reference
        if ref is not None and ref.answered:
            return  # the host is up: each service port is filtered (HTTP-01 fails it)
        ports = ", ".join(str(p.port) for p in probes)
        waited = probes[0].connect_detail.split(" after ")[-1]
        head = f"http: {self.address} is unreachable: connect to port(s) {ports} timed out"
        if ref is None:
            raise CheckError(f"{head} ({waited}; the host is down or every service port is "
                             "filtered: the target has no ssh.port to tell which)")
        if ref.connect == "timeout":
            raise CheckError(f"{head} ({waited}), and so did the reference ssh.port "
                             f"{ref.port}: the host is down or the path to it is cut")
        raise CheckError(f"{head} ({waited}), and the reference ssh.port {ref.port} did not "
                         f"answer either ({ref.detail})")

    def witness(self) -> str | None:
        """What shows the address is up, for calling a timed-out port filtered: a service
        port that answered (connected or refused), else the reference; None if nothing."""
        for p in self.probes:
            if p.connect in ("ok", "refused"):
                return f"port {p.port} of this address answers"
        ref = self.reference
        if ref is not None and ref.answered:
            how = "accepts connections" if ref.connect == "ok" else "answers with a reset"
            return f"ssh.port {ref.port} of this address {how}"
        return None


def client_address(instance: Instance, target: Target) -> tuple[str, str]:
    """(address to connect to, the name clients use) for ``target``."""
    profile_host = target.expected_public_ip
    if profile_host is None:
        if target.lightsail is None:
            raise CheckError("no address: the target has neither ssh.host, "
                             "lightsail.public_ip nor a Lightsail instance")
        ip = instance().get("publicIpAddress")
        if not isinstance(ip, str) or not ip:
            raise CheckError("no address: the GetInstance answer has no "
                             "instance.publicIpAddress and the profile names none")
        return ip, ip
    if is_address(profile_host):
        return profile_host, profile_host
    what = "lightsail.public_ip" if (target.lightsail or {}).get("public_ip") else "ssh.host"
    timeout = max(e["connect_timeout"] for e in target.expect["http"])
    return resolve(profile_host, timeout, what)[0], profile_host


def gather_http(instance: Instance, target: Target) -> HttpFacts:
    address, name = client_address(instance, target)
    entries = [dict(e, server_name=e.get("server_name") or name)
               for e in target.expect["http"]]
    reference = int(target.ssh["port"]) if target.ssh else None
    probes, knocked = probe_target(address, entries, reference)
    return HttpFacts(address, tuple(probes), knocked)
