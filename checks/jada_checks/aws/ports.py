"""Reading a GetInstance answer's fields and its firewall rules: shared by the Lightsail
controls (JADA-LS) and JADA-HTTP-03, which compares the firewall with the unit's listeners.

Sources: the Lightsail API reference, GetInstance and InstancePortInfo (``API`` below).
"""

from __future__ import annotations

from typing import Any

from jada_checks.model import CheckError
from jada_checks.parsers.numbers import integer

API = "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/"


def field(obj: Any, path: str, kind: type | tuple[type, ...]) -> Any:
    """``obj[a][b]`` for path ``a.b``, or CheckError naming the missing GetInstance field."""
    value = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise CheckError(f"the GetInstance answer has no usable instance.{path}")
    return value


def inbound_rules(instance: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for _, r in indexed_inbound_rules(instance)]


def indexed_inbound_rules(instance: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(index in networking.ports, rule) of each inbound rule; CheckError on a bad entry.
    Ports are whole numbers -1..65535 (InstancePortInfo: -1 is every ICMP type or code)."""
    rules = field(instance, "networking.ports", list)
    out = []
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or "fromPort" not in r or "toPort" not in r \
                or not isinstance(r.get("protocol"), str):
            raise CheckError(f"the GetInstance answer's instance.networking.ports[{i}] lacks "
                             "fromPort/toPort/protocol")
        for key in ("fromPort", "toPort"):  # NumberError is a CheckError
            integer(r[key], f"the GetInstance answer's instance.networking.ports[{i}].{key}",
                    low=-1, high=65535)
        if str(r.get("accessDirection", "inbound")).lower() == "inbound":
            out.append((i, r))
    return out


def port_key(from_port: int, to_port: int, protocol: str) -> tuple[int, int, str]:
    return from_port, to_port, protocol.lower()


ICMP = ("icmp", "icmpv6")


def show_port(key: tuple[int, int, str]) -> str:
    """``22/tcp``, ``8000-8090/tcp``, ``all``; an ICMP rule as its type and code, which is
    what InstancePortInfo's fromPort and toPort hold for icmp and icmpv6 (-1: every one)."""
    lo, hi, proto = key
    if proto == "all":
        return "all"
    if proto in ICMP:
        return (f"{proto} type {'all' if lo == -1 else lo} "
                f"code {'all' if hi == -1 else hi}")
    return f"{lo}/{proto}" if lo == hi else f"{lo}-{hi}/{proto}"


def show_ports(keys: set[tuple[int, int, str]]) -> str:
    # ports first, then the ICMP rules, whose numbers are types and codes
    ordered = sorted(keys, key=lambda k: (k[2] in ICMP, k[2] if k[2] in ICMP else "", k))
    return ", ".join(show_port(k) for k in ordered) or "(none)"
