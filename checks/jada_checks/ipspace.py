"""How much of the Internet a set of source CIDRs lets in, counted in addresses.

"Open to the Internet" is not "has a /0": ``0.0.0.0/1`` plus ``128.0.0.0/1`` is the same
world, and so is ``0.0.0.0/0`` written as 32 blocks that leave out one address. So the
union of the sources is intersected with the *public* address space of its family and the
addresses in it are counted (stdlib ``ipaddress``: collapse_addresses, address_exclude).

Public space (what can be a packet's source on the Internet):
- IPv4: everything except the IANA IPv4 Special-Purpose Address Registry blocks that are
  not globally reachable (RFC 6890 and successors), multicast 224.0.0.0/4 (RFC 5771) and
  the reserved 240.0.0.0/4 (RFC 1112 section 4) - a TCP/UDP peer is neither.
- IPv6: the global unicast space IANA allocates from, 2000::/3 (RFC 4291 section 2.4 and
  the IANA IPv6 Address Space registry), without the documentation prefix 2001:db8::/32
  (RFC 3849).

The threshold is one IANA allocation unit: IANA hands the Regional Internet Registries
IPv4 space in /8 blocks (IANA IPv4 Address Space Registry) and IPv6 space in /12 blocks
(IANA IPv6 Global Unicast Address Assignments). A source set reaching more public
addresses than that is not an allow-list of anyone's network; it is a slice of the
Internet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, cast

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

NOT_PUBLIC_V4 = (
    "0.0.0.0/8",        # "this network" (RFC 791, RFC 1122 3.2.1.3)
    "10.0.0.0/8",       # private (RFC 1918)
    "100.64.0.0/10",    # shared address space, carrier-grade NAT (RFC 6598)
    "127.0.0.0/8",      # loopback (RFC 1122)
    "169.254.0.0/16",   # link local (RFC 3927)
    "172.16.0.0/12",    # private (RFC 1918)
    "192.0.0.0/24",     # IETF protocol assignments (RFC 6890)
    "192.0.2.0/24",     # TEST-NET-1 (RFC 5737)
    "192.168.0.0/16",   # private (RFC 1918)
    "198.18.0.0/15",    # benchmarking (RFC 2544)
    "198.51.100.0/24",  # TEST-NET-2 (RFC 5737)
    "203.0.113.0/24",   # TEST-NET-3 (RFC 5737)
    "224.0.0.0/4",      # multicast (RFC 5771)
    "240.0.0.0/4",      # reserved, and limited broadcast (RFC 1112, RFC 919)
)
GLOBAL_UNICAST_V6 = "2000::/3"
NOT_PUBLIC_V6 = ("2001:db8::/32",)  # documentation (RFC 3849)

# More public addresses than one IANA allocation unit (/8 for IPv4, /12 for IPv6) is "open".
ALLOCATION_UNIT = {4: 8, 6: 12}
FAMILY_BITS = {4: 32, 6: 128}


def _without(space: list[Network], holes: Iterable[str]) -> list[Network]:
    # typeshed types subnet_of/address_exclude per family; each call here pairs networks
    # of one family (the spaces are built per family), hence the Any.
    for hole in map(ipaddress.ip_network, holes):
        out: list[Network] = []
        for net in space:
            h, n = cast(Any, hole), cast(Any, net)
            if h.subnet_of(n):
                out.extend(n.address_exclude(h))
            elif not n.subnet_of(h):
                out.append(net)
        space = out
    return list(ipaddress.collapse_addresses(cast(Any, space)))


PUBLIC: dict[int, list[Network]] = {
    4: _without([ipaddress.ip_network("0.0.0.0/0")], NOT_PUBLIC_V4),
    6: _without([ipaddress.ip_network(GLOBAL_UNICAST_V6)], NOT_PUBLIC_V6),
}
PUBLIC_SIZE = {v: sum(n.num_addresses for n in nets) for v, nets in PUBLIC.items()}


def threshold(version: int) -> int:
    """Public addresses a source set may reach before it counts as open to the Internet."""
    return 2 ** (FAMILY_BITS[version] - ALLOCATION_UNIT[version])


def public_reach(networks: Iterable[Network]) -> int:
    """Public addresses in the union of ``networks`` (all of one family)."""
    union: list[Any] = list(ipaddress.collapse_addresses(cast(Any, networks)))
    if not union:
        return 0
    total = 0
    # Both lists are collapsed, so each pair is disjoint, nested or equal: the
    # intersection of a pair is the smaller one, and no address is counted twice.
    for a in union:
        for b in PUBLIC[a.version]:
            if a.subnet_of(b):
                total += a.num_addresses
            elif b.subnet_of(a):
                total += b.num_addresses
    return total


def share(reach: int, version: int) -> str:
    """``reach`` as a part of the public space: "all of", or a percentage rounded down."""
    if reach >= PUBLIC_SIZE[version]:
        return f"all of the public IPv{version} space"
    tenths = reach * 1000 // PUBLIC_SIZE[version]
    return f"{tenths // 10}.{tenths % 10}% of the public IPv{version} space"


def parse(text: Any) -> Network:
    """A CIDR or bare address as the API writes it; ValueError if it is neither."""
    if not isinstance(text, str):
        raise ValueError(f"not a string: {text!r}")
    return ipaddress.ip_network(text.strip(), strict=False)
