"""Whether systemd starts a unit at the next boot, and by which route.

At boot systemd starts ``default.target`` and, recursively, every unit it pulls in with
Wants=, Requires=, Requisite=, BindsTo= or Upholds= (systemd.unit(5); bootup(7)). Those
dependencies come from unit file lines and from ``.wants/``/``.requires/``/``.upholds/``
symlink directories in every unit directory, ``/usr/lib/systemd/system`` included: vendor
packages ship links there for units that are "static" (no [Install] section) yet start
at every boot. ``systemctl is-enabled``/UnitFileState only says whether the [Install]
symlinks exist: "enabled" is also printed when the only one is an ``Alias=`` link
(/etc/systemd/system/<alias> -> the unit), which starts nothing; "static" when there is
no [Install] at all (systemctl(1), is-enabled; checked on systemd 252).

So the route is read from systemd's loaded dependency graph (``systemctl list-dependencies
--reverse --all``: every unit that pulls this one in, recursively) and from the files that
made each first step of it. A step made only by files under /run/systemd/system,
/run/systemd/system.control or /run/systemd/transient is gone at the next boot
(``systemctl enable --runtime``, ``systemctl add-wants --runtime``); generator output under
/run/systemd/generator* is made again at every boot.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

_NAME = re.compile(r"([A-Za-z0-9:_\\@][A-Za-z0-9:_.\\@-]*\.(?:target|service|socket|path|"
                   r"timer|mount|automount|swap|slice|scope|device))\s*$")
RUNTIME_ONLY = ("/run/systemd/system/", "/run/systemd/system.control/",
                "/run/systemd/transient/")


@dataclass
class Step:
    """One unit that pulls the checked unit in directly, and what says so."""

    parent: str
    reaches_default: bool
    evidence: list[str] = field(default_factory=list)  # "path" or "path:line:text"

    def persistent(self) -> bool:
        """Whether it is still there at the next boot: some evidence outside /run's
        runtime directories, or none found (then it is systemd's own, e.g. a generator or
        a default dependency, and made again at boot)."""
        return not self.evidence or any(not e.startswith(RUNTIME_ONLY) for e in self.evidence)


@dataclass
class BootRoute:
    default: str = ""  # the unit default.target resolves to (systemctl get-default)
    tree: list[tuple[int, str]] = field(default_factory=list)  # (depth, unit)
    steps: list[Step] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # symlinks that only name the unit
    pulled_by: set[str] = field(default_factory=set)  # WantedBy/RequiredBy/BoundBy/UpheldBy
    malformed: list[str] = field(default_factory=list)

    def boot_steps(self) -> list[Step]:
        """The first steps of routes from the default target that survive a reboot."""
        return [s for s in self.steps if s.reaches_default and s.persistent()]

    def runtime_steps(self) -> list[Step]:
        return [s for s in self.steps if s.reaches_default and not s.persistent()]


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


def parse_tree(lines: list[str]) -> list[tuple[int, str]]:
    """``systemctl list-dependencies`` tree lines -> (depth, unit); the glyphs take two
    columns per level after the first four (``● └─name``; ASCII ``* `-name`` in C locale)."""
    out = []
    for line in lines:
        m = _NAME.search(line)
        if not m:
            continue
        col = m.start(1)
        out.append((0 if col == 0 else max(1, (col - 2) // 2), m.group(1)))
    return out


def parse_boot_route(text: str) -> BootRoute:
    """The probe's records: ``default <unit>``, ``P <units pulling it in>``, ``T <tree
    line>``, ``L <b64 parent> <b64 path>``, ``W <b64 parent> <b64 path:line:text>``,
    ``A <b64 path>``."""
    route = BootRoute()
    tree_lines: list[str] = []
    links: dict[str, list[str]] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "default":
            route.default = rest.strip()
        elif kind == "P":
            route.pulled_by.update(rest.split())
        elif kind == "T":
            tree_lines.append(rest)
        elif kind in ("L", "W"):
            parts = rest.split()
            decoded = [_b64(p) for p in parts]
            if len(parts) != 2 or None in decoded:
                route.malformed.append(line[:120])
                continue
            links.setdefault(decoded[0] or "", []).append(decoded[1] or "")
        elif kind == "A":
            path = _b64(rest.strip())
            if path is None:
                route.malformed.append(line[:120])
            else:
                route.aliases.append(path)
    route.tree = parse_tree(tree_lines)
    tree = route.tree[1:]  # the first line is the unit itself
    for i, (depth, unit) in enumerate(tree):
        if depth != 1 or unit not in route.pulled_by:  # PartOf= also shows: it starts nothing
            continue
        below = []
        for d, u in tree[i + 1:]:
            if d <= 1:
                break
            below.append(u)
        reaches = route.default in (unit, *below)
        route.steps.append(Step(unit, reaches, links.get(unit, [])))
    return route
