"""JADA-HTTP-03 on given facts: the firewall's rules (a GetInstance record) against the
unit's listeners (the ss lines NET-04 reads). The sandbox hosts prove the common cases;
these are the ones no sandbox host has: ``all`` rules, udp rules, loopback listeners, an
SSH port other than 22, a target without Lightsail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jada_checks.controls import catalogue
from jada_checks.facts.host import HostFacts, Section
from jada_checks.model import REGISTRY, CheckError, Outcome
from jada_checks.profile import Target
from tests.controls.test_host_controls_pure import EXPECT, GOOD

catalogue()
LISTEN = 'LISTEN 0 8192 {addr}:7070 0.0.0.0:* users:(("python3",pid=35,fd=3))\n'


@dataclass
class Record:
    """The part of LightsailFacts HTTP-03 reads: GetInstance's instance object."""

    ports: list[dict[str, Any]]

    def instance(self) -> dict[str, Any]:
        return {"networking": {"ports": self.ports}}

    def source(self, what: str, operation: str = "GetInstance") -> str:
        return f"lightsail:{operation} us-east-1/web {what}"


@dataclass
class Ctx:
    target: Target
    lightsail: Record
    host: HostFacts
    expect: dict[str, Any] = field(default_factory=dict)


def rule(lo: int, hi: int, proto: str = "tcp") -> dict[str, Any]:
    return {"fromPort": lo, "toPort": hi, "protocol": proto, "cidrs": ["0.0.0.0/0"]}


def judge(rules: list[dict[str, Any]], listen_addr: str = "0.0.0.0", ssh_port: int = 22,
          lightsail: bool = True) -> Outcome:
    expect = dict(EXPECT, http=[{"port": 7070}], lightsail={"admin_ports": [22]})
    facts = dict(GOOD, hc_listen=LISTEN.format(addr=listen_addr))
    host = HostFacts({n: Section(n, 0, out, "") for n, out in facts.items()})
    target = Target("web", {"host": "198.51.100.10", "port": ssh_port},
                    {"instance": "web", "region": "us-east-1"} if lightsail else None, expect)
    try:
        return REGISTRY["JADA-HTTP-03"].check(Ctx(target, Record(rules), host, expect))  # type: ignore[arg-type]
    except CheckError as exc:
        return Outcome("error", str(exc))


def test_agreeing_firewall_passes() -> None:
    out = judge([rule(22, 22), rule(7070, 7070)])
    assert out.status == "pass", out
    assert "firewall tcp: 22/tcp, 7070/tcp; jada-agent.service listens on 0.0.0.0:7070" \
        in out.message


def test_an_all_rule_opens_every_port_and_names_the_idle_ranges() -> None:
    out = judge([rule(0, 65535, "all")])
    assert out.status == "fail", out
    assert out.message == ("firewall opens all but no process of jada-agent.service listens "
                           "on ports 0-21, 23-7069, 7071-65535 from outside")


def test_udp_rules_are_named_not_judged() -> None:
    out = judge([rule(22, 22), rule(7070, 7070), rule(53, 53, "udp")])
    assert out.status == "pass" and "; udp rules not judged: 53/udp" in out.message, out


def test_a_loopback_listener_does_not_serve_the_firewall() -> None:
    out = judge([rule(22, 22), rule(7070, 7070)], listen_addr="127.0.0.1")
    assert out.status == "fail", out
    assert out.message == ("firewall opens 7070/tcp but no process of jada-agent.service "
                           "listens on port 7070 from outside (7070 only on loopback)")


def test_the_ssh_port_is_exempt_and_a_missing_service_port_fails() -> None:
    out = judge([rule(22, 22), rule(2222, 2222)], ssh_port=2222)
    assert out.status == "fail", out
    assert out.message == ("service port(s) 7070 (expect.http) not open in the Lightsail "
                           "firewall")


def test_without_lightsail_the_firewall_cannot_be_read() -> None:
    out = judge([], lightsail=False)
    assert out.status == "skipped" and "no lightsail section" in out.message, out
