"""Parse ``ss -H -l -n -t -p`` (iproute2): listening TCP sockets and their owners.

For a socket in LISTEN state ss prints the accept-queue length as Recv-Q and the
backlog the kernel granted as Send-Q (``sk_max_ack_backlog`` in net/ipv4/tcp_diag.c),
which is ``min(backlog passed to listen(), net.core.somaxconn)`` at the time of listen().
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PID = re.compile(r"pid=(\d+)")
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
    """Listeners, and lines that could not be read (kept for the error message)."""
    out, bad = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split(None, 5)
        if len(fields) < 5 or fields[0] != "LISTEN" or not (fields[1].isdigit()
                                                          and fields[2].isdigit()):
            bad.append(line[:200])
            continue
        proc = fields[5] if len(fields) > 5 else ""
        pids = tuple(int(p) for p in _PID.findall(proc))
        name = _NAME.search(proc)
        out.append(Listener(fields[3], int(fields[1]), int(fields[2]), pids,
                            name.group(1) if name else ""))
    return out, bad
