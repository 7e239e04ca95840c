"""Parsers for /proc and /proc/sys text: what the kernel actually applies.

``/proc/<pid>/limits`` is the authority on a process's limits (fs/proc/base.c,
``proc_pid_limits``): whatever a unit file or limits.conf says, this is what counts.
Every parser returns None for what it cannot read, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RLIM_INFINITY = 2**64 - 1
_LIMIT_LINE = re.compile(r"^(Max [a-z][a-z ]*?)\s{2,}(\S+)\s+(\S+)")


def parse_rlimit(text: str) -> int | None:
    """A limit value as /proc or ``systemctl show`` prints it: digits, unlimited, infinity."""
    text = text.strip()
    if text in ("unlimited", "infinity"):
        return RLIM_INFINITY
    if text.isascii() and text.isdigit():
        value = int(text)
        return value if value <= RLIM_INFINITY else None
    return None


def show_rlimit(value: int | None) -> str:
    if value is None:
        return "unknown"
    return "infinity" if value >= RLIM_INFINITY else str(value)


@dataclass(frozen=True)
class Pair:
    soft: int
    hard: int

    def __str__(self) -> str:
        return f"{show_rlimit(self.soft)}:{show_rlimit(self.hard)}"


def parse_limits(text: str) -> dict[str, Pair]:
    """``/proc/<pid>/limits`` -> {"Max open files": Pair(soft, hard), ...}.

    Rows whose values are not numbers or ``unlimited`` are left out, so a caller asking
    for a missing row gets nothing rather than a wrong number.
    """
    out: dict[str, Pair] = {}
    for line in text.splitlines():
        m = _LIMIT_LINE.match(line)
        if not m:
            continue
        soft, hard = parse_rlimit(m.group(2)), parse_rlimit(m.group(3))
        if soft is not None and hard is not None:
            out[m.group(1)] = Pair(soft, hard)
    return out


def parse_int(text: str) -> int | None:
    """A single non-negative integer (a /proc/sys value), else None."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


@dataclass(frozen=True)
class FileNr:
    allocated: int
    unused: int
    max: int


def parse_file_nr(text: str) -> FileNr | None:
    """``/proc/sys/fs/file-nr``: allocated, allocated-but-unused (always 0 since 2.6), max."""
    fields = text.split()
    if len(fields) != 3 or not all(f.isascii() and f.isdigit() for f in fields):
        return None
    return FileNr(*(int(f) for f in fields))


@dataclass(frozen=True)
class ProcFds:
    pid: int
    comm: str
    open_fds: int | None  # None: /proc/<pid>/fd unreadable
    soft: int | None  # soft nofile from /proc/<pid>/limits


def parse_fd_table(text: str) -> tuple[str | None, list[ProcFds]]:
    """Lines ``P <pid> <nfds|-> <soft|-> <comm>`` plus ``source <how>``; bad lines dropped."""
    source, procs = None, []
    for line in text.splitlines():
        if line.startswith("source "):
            source = line[7:].strip()
            continue
        fields = line.split(" ", 4)
        if len(fields) < 4 or fields[0] != "P" or not fields[1].isdigit():
            continue
        nfds = int(fields[2]) if fields[2].isdigit() else None
        soft = parse_rlimit(fields[3])
        procs.append(ProcFds(int(fields[1]), fields[4] if len(fields) > 4 else "?", nfds, soft))
    return source, procs


def parse_values(text: str) -> dict[tuple[str, str], str | None]:
    """Lines ``V <scope> <key> <value...>`` -> {(scope, key): value}; ``!...`` is None."""
    out: dict[tuple[str, str], str | None] = {}
    for line in text.splitlines():
        fields = line.split(None, 3)
        if len(fields) < 3 or fields[0] != "V":
            continue
        value = fields[3].strip() if len(fields) > 3 else ""
        out[(fields[1], fields[2])] = None if value.startswith("!") or not value else value
    return out


def parse_status_ids(text: str) -> dict[str, list[int]]:
    """``Uid:``/``Gid:`` lines of /proc/<pid>/status -> {"Uid": [real, eff, saved, fs]}."""
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        nums = rest.split()
        if key in ("Uid", "Gid") and len(nums) == 4 and all(n.isdigit() for n in nums):
            out[key] = [int(n) for n in nums]
    return out
