"""Resolve a profile's host name the way ssh(1) will, so an address can be compared with it.

The suite reaches a target through OpenSSH with ``HostName <ssh.host>``; ssh resolves that
with getaddrinfo(3) for any address family (ssh_config(5) ``AddressFamily any``) and may
connect to any of the answers. So the answers are what a name "is": A and AAAA alike.
Resolution is local (nsswitch: /etc/hosts, then DNS); nothing is sent to the target.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

from jada_checks.model import CheckError

# RFC 6761 section 6.4: name resolution APIs and libraries SHOULD return a negative answer
# for ".invalid" names at once and SHOULD NOT query DNS for them. glibc does query, so the
# suite answers them itself: a name that can never resolve costs no lookup.
NEVER_RESOLVES = "invalid"


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, timeout: float, what: str = "ssh.host") -> list[str]:
    """The addresses ``host`` resolves to (A and AAAA, getaddrinfo order, no repeats).

    An address literal is its own answer. A name that is malformed, does not resolve, or
    takes longer than ``timeout`` seconds raises CheckError naming it (``what`` says
    which profile field it came from).
    """
    if is_address(host):
        return [str(ipaddress.ip_address(host))]
    name = host.rstrip(".")
    try:
        name.encode("idna")  # labels of 1..63 octets, as a DNS name needs
    except UnicodeError as exc:
        raise CheckError(f"{what} {host!r} is not a valid DNS name ({exc})") from None
    if name.rsplit(".", 1)[-1].lower() == NEVER_RESOLVES:
        raise CheckError(f"{what} {host!r} does not resolve: names under .invalid never "
                         "do (RFC 6761 section 6.4)")
    answer: list[Any] = []  # getaddrinfo's list, or the exception it raised

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, None, socket.AF_UNSPEC,
                                             socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
            answer.append(exc)

    # getaddrinfo cannot be interrupted; a daemon thread bounds the wait without it.
    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not answer:
        raise CheckError(f"{what} {host!r} did not resolve within {timeout:g} s")
    result = answer[0]
    if isinstance(result, BaseException):
        reason = getattr(result, "strerror", None) or str(result)
        raise CheckError(f"{what} {host!r} does not resolve ({reason})")
    addresses: list[str] = []
    for *_, sockaddr in result:
        text = str(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise CheckError(f"{what} {host!r} resolves to no address")
    return addresses
