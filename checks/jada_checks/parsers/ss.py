"""Parse ``ss -H -l -n -t -p`` (iproute2): listening TCP sockets and their owners.

For a socket in LISTEN state ss prints the accept-queue length as Recv-Q and the
backlog the kernel granted as Send-Q (``sk_max_ack_backlog`` in net/ipv4/tcp_diag.c),
which is ``min(backlog passed to listen(), net.core.somaxconn)`` at the time of listen().
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jada_checks.parsers.numbers import PID_MAX, U32_MAX, whole_or_none

_PID = re.compile(r",pid=([^,)]*)")  # users:(("name",pid=35,fd=3))
_NAME = re.compile(r'\(\("([^"]*)"')


@dataclass(frozen=True)
class Listener:
    local: str
    recv_q: int  # connections waiting in the accept queue
    send_q: int  # the effective backlog
    pids: tuple[int, ...]
    process: str

    @property
    def port(self) -> str:
        return self.local.rsplit(":", 1)[-1]


def parse_listeners(text: str) -> tuple[list[Listener], list[str]]:
    """Listeners, and lines that could not be read (kept for the error message).

    Recv-Q and Send-Q of a listener are the kernel's u32 ``sk_ack_backlog`` and
    ``sk_max_ack_backlog``; a pid is below PID_MAX_LIMIT. Anything else is a bad line.
    """
    out, bad = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split(None, 5)
        if len(fields) < 5 or fields[0] != "LISTEN":
            bad.append(line[:200])
            continue
        recv_q = whole_or_none(fields[1], high=U32_MAX)
        send_q = whole_or_none(fields[2], high=U32_MAX)
        proc = fields[5] if len(fields) > 5 else ""
        pids = [whole_or_none(p, low=1, high=PID_MAX) for p in _PID.findall(proc)]
        if recv_q is None or send_q is None or None in pids:
            bad.append(line[:200])
            continue
        name = _NAME.search(proc)
        out.append(Listener(fields[3], recv_q, send_q, tuple(p for p in pids if p is not None),
                            name.group(1) if name else ""))
    return out, bad
