"""The unit's cgroup subtree as the probe walked it: which cgroup each process is in.

systemd puts a service's processes in its cgroup (``ControlGroup``); with ``Delegate=yes``
the service may create child cgroups and move processes into them, and systemd >= 254's
``DelegateSubgroup=`` starts the main process in one (systemd.resource-control(5)).
``cgroup.procs`` lists the processes of that one cgroup only, not of its children
(Documentation/admin-guide/cgroup-v2.rst, "Processes"), so the unit's processes are
found only by reading every cgroup of the subtree. In a threaded cgroup reading
``cgroup.procs`` fails with EOPNOTSUPP: its processes are listed at the thread root.

Probe lines: ``G <base64 path> <pid>...`` per cgroup read, ``GX <base64 path> <reason>``
per cgroup that could not be read, ``source cgroup <path>`` and ``hierarchy <mount>``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from jada_checks.parsers.numbers import PID_MAX, whole_or_none


@dataclass
class CgroupTree:
    root: str | None = None  # the unit's cgroup; None: the probe fell back to descendants
    hierarchy: str | None = None  # where it was read (/sys/fs/cgroup, .../systemd)
    cgroups: list[str] = field(default_factory=list)  # every cgroup read, parents first
    members: dict[int, str] = field(default_factory=dict)  # pid -> its cgroup
    problems: list[str] = field(default_factory=list)  # what could not be read

    def describe(self) -> str:
        """The subtree as a source: the unit's cgroup and how many child cgroups it has."""
        if self.root is None:
            return "no cgroup"
        kids = len(self.cgroups) - 1
        return (f"cgroup {self.root} and its {kids} child cgroup{'s' if kids != 1 else ''}"
                f" ({self.hierarchy})")


def _path(text: str) -> str | None:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        return None


def parse_cgroup_tree(text: str) -> CgroupTree:
    tree = CgroupTree()
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key == "source" and rest.startswith("cgroup "):
            tree.root = rest[len("cgroup "):].strip()
        elif key == "hierarchy":
            tree.hierarchy = rest.strip()
        elif key in ("G", "GX"):
            fields = rest.split(" ", 1) if key == "GX" else rest.split()
            path = _path(fields[0]) if fields and fields[0] else None
            if path is None:
                tree.problems.append(f"corrupt cgroup line {line[:80]!r}")
                continue
            if key == "GX":
                tree.problems.append(f"{path}: {fields[1] if len(fields) > 1 else 'unreadable'}")
                continue
            tree.cgroups.append(path)
            pids = [whole_or_none(p, high=PID_MAX) for p in fields[1:]]
            if None in pids:
                tree.problems.append(f"{path}: cgroup.procs is not a list of pids")
                continue
            hidden = pids.count(0)
            if hidden:
                tree.problems.append(f"{path}: {hidden} process(es) in a PID namespace this "
                                     "session cannot see (cgroup.procs shows them as 0)")
            for pid in pids:
                if pid:
                    tree.members[pid] = path
    if tree.root is not None and not tree.cgroups and not tree.problems:
        tree.problems.append(f"{tree.root}: the probe read no cgroup of the subtree")
    return tree
