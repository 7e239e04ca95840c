"""Which systemd unit each listening process belongs to, from its cgroup.

The fact script prints ``<pid> <cgroup path>`` for every pid that owns a listening TCP
socket (``ss -H -l -n -t -p``), the path read from ``/proc/<pid>/cgroup`` (cgroup v2's
``0::`` line, or v1's ``name=systemd`` hierarchy). systemd puts each service in a
cgroup named after the unit (``/system.slice/nginx.service``, systemd.unit(5), "the
unit's control group"); processes in a delegated child cgroup
(``/system.slice/nginx.service/worker``) still belong to it.
"""

from __future__ import annotations

from jada_checks.parsers.numbers import PID_MAX, whole_or_none

UNIT_SUFFIXES = (".service", ".scope", ".socket", ".mount", ".swap")


def unit_of(cgroup: str) -> str | None:
    """The unit a cgroup path belongs to: its first component that names a unit (a slice
    is not one: it holds units), or None (the root cgroup, a path outside systemd's tree)."""
    for part in cgroup.strip().split("/"):
        if part.endswith(UNIT_SUFFIXES) and part not in UNIT_SUFFIXES:
            return part
    return None


def parse_listen_units(text: str) -> tuple[dict[int, str | None], list[str]]:
    """{pid: unit or None} from ``<pid> <cgroup path>`` lines, and the lines that could
    not be read. A pid with no path (the process ended between ss and the read) maps to
    None: its unit is unknown, never guessed."""
    units: dict[int, str | None] = {}
    bad: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        pid_text, _, path = line.strip().partition(" ")
        pid = whole_or_none(pid_text, low=1, high=PID_MAX)
        if pid is None or (path and not path.startswith("/")):
            bad.append(line[:200])
            continue
        units[pid] = unit_of(path) if path else None
    return units, bad
