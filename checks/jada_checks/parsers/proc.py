"""Parsers for /proc and /proc/sys text: what the kernel actually applies.

``/proc/<pid>/limits`` is the authority on a process's limits (fs/proc/base.c,
``proc_pid_limits``): whatever a unit file or limits.conf says, this is what counts.
Every parser returns None for what it cannot read, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jada_checks.parsers.numbers import NR_OPEN_MAX, PID_MAX, U32_MAX, U64_MAX, whole_or_none

RLIM_INFINITY = U64_MAX
_LIMIT_LINE = re.compile(r"^(Max [a-z][a-z ]*?)\s{2,}(\S+)\s+(\S+)")


def parse_rlimit(text: str) -> int | None:
    """A limit value as /proc or ``systemctl show`` prints it: digits, unlimited, infinity
    (ASCII blanks around it allowed, as for every number: str.strip() would also take
    U+0085 and U+2003 for blanks)."""
    text = text.strip(" \t\r\n")
    if text in ("unlimited", "infinity"):
        return RLIM_INFINITY
    return whole_or_none(text, high=RLIM_INFINITY)


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


def parse_int(text: str, high: int = U64_MAX) -> int | None:
    """A single non-negative integer (a /proc/sys value) up to ``high``, else None."""
    return whole_or_none(text, high=high)


@dataclass(frozen=True)
class FileNr:
    allocated: int
    unused: int
    max: int


def parse_file_nr(text: str) -> FileNr | None:
    """``/proc/sys/fs/file-nr``: allocated, allocated-but-unused (always 0 since 2.6), max."""
    fields = text.split()
    values = [v for v in (whole_or_none(f) for f in fields) if v is not None]  # C ulong
    if len(fields) != 3 or len(values) != 3:
        return None
    return FileNr(*values)


@dataclass(frozen=True)
class ProcFds:
    pid: int
    comm: str
    open_fds: int | None  # None: /proc/<pid>/fd unreadable
    soft: int | None  # soft nofile from /proc/<pid>/limits


def parse_fd_table(text: str) -> tuple[str | None, list[ProcFds], list[str]]:
    """Lines ``P <pid> <nfds|-> <soft|-> <comm>`` plus ``source <how>``.

    Returns (source, processes, bad ``P`` lines). ``-`` is the probe's "could not read";
    anything else that is not a number a process can have is a bad line, kept for the
    error message: a process left out silently could hide the one near its limit.
    """
    source, procs, bad = None, [], []
    for line in text.splitlines():
        if line.startswith("source "):
            source = line[7:].strip()
            continue
        fields = line.split(" ", 4)
        if fields[0] != "P":
            continue
        if len(fields) < 4:
            bad.append(line[:200])
            continue
        pid = whole_or_none(fields[1], low=1, high=PID_MAX)
        nfds = None if fields[2] == "-" else whole_or_none(fields[2], high=NR_OPEN_MAX)
        soft = None if fields[3] == "-" else parse_rlimit(fields[3])
        if pid is None or (nfds is None and fields[2] != "-") or \
                (soft is None and fields[3] != "-"):
            bad.append(line[:200])
            continue
        procs.append(ProcFds(pid, fields[4] if len(fields) > 4 else "?", nfds, soft))
    return source, procs, bad


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
        ids = [i for i in (whole_or_none(n, high=U32_MAX) for n in rest.split())
               if i is not None]  # uid_t, gid_t
        if key in ("Uid", "Gid") and len(ids) == 4 == len(rest.split()):
            out[key] = ids
    return out
