"""Where a unit's LimitNOFILE= comes from: unit file lines and DefaultLimitNOFILE=.

The probe greps only ``LimitNOFILE=`` lines of the unit's fragment and drop-ins (in the
order systemd reads them) and ``DefaultLimitNOFILE=`` lines of system.conf and
system.conf.d. systemd.exec(5): ``LimitNOFILE=soft:hard`` or one value for both;
``infinity``; the last assignment wins. systemd 252 ignores (with a warning) an empty or
unparseable value and a soft value above the hard one (config_parse_rlimit(),
src/shared/conf-parser.c): such a line changes nothing, it does not reset.
systemd-system.conf(5): system.conf, then system.conf.d/*.conf of /etc, /run,
/usr/local/lib, /usr/lib by file name, a name in an earlier directory hiding later ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jada_checks.parsers.numbers import U32_MAX, whole_or_none
from jada_checks.parsers.proc import RLIM_INFINITY

_LINE = re.compile(r"^LINE (unit|manager) (.+?) ([0-9]+):(.*)$")
_HEAD = re.compile(r"^(FILE|UNREADABLE) (unit|manager) (.+)$")
_MANAGER_DIRS = ("/etc/systemd/system.conf.d", "/run/systemd/system.conf.d",
                 "/usr/local/lib/systemd/system.conf.d", "/usr/lib/systemd/system.conf.d")


@dataclass(frozen=True)
class Setting:
    path: str
    line: int
    text: str
    soft: int | None  # None: unparseable (systemd ignores the line)
    hard: int | None
    valid: bool

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class NofileConfig:
    unit: list[Setting] = field(default_factory=list)
    manager: list[Setting] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    manager_files: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # LINE records that are not grep -n's

    def unit_effective(self) -> Setting | None:
        """The unit's winning LimitNOFILE= line (the last one systemd accepts), or None."""
        valid = [s for s in self.unit if s.valid]
        return valid[-1] if valid else None

    def manager_effective(self) -> Setting | None:
        valid = [s for s in self.manager if s.valid]
        return valid[-1] if valid else None


def parse_value(value: str) -> tuple[int | None, int | None, bool]:
    """``soft:hard`` / ``n`` / ``infinity`` -> (soft, hard, valid); systemd ignores invalid,
    a value beyond 64 bits included (safe_atou64() fails with ERANGE)."""
    def one(v: str) -> int | None:
        v = v.strip(" \t\r\n")  # systemd's WHITESPACE
        if v == "infinity":
            return RLIM_INFINITY
        return whole_or_none(v, high=RLIM_INFINITY)

    value = value.strip(" \t\r\n")
    soft_text, sep, hard_text = value.partition(":")
    soft = one(soft_text)
    hard = one(hard_text) if sep else soft
    valid = soft is not None and hard is not None and soft <= hard
    return soft, hard, valid


def _manager_order(paths: list[str]) -> list[str]:
    conf = [p for p in paths if p == "/etc/systemd/system.conf"]
    chosen: dict[str, str] = {}
    for d in _MANAGER_DIRS:
        for p in paths:
            directory, _, name = p.rpartition("/")
            if directory == d:
                chosen.setdefault(name, p)
    return conf + [chosen[n] for n in sorted(chosen)]


def parse_nofile_lines(text: str) -> NofileConfig:
    """Parse the probe's ``FILE``/``UNREADABLE``/``LINE`` lines."""
    cfg = NofileConfig()
    manager_lines: dict[str, list[Setting]] = {}
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        head = _HEAD.match(line)
        if head:
            kind, scope, path = head.groups()
            if kind == "UNREADABLE":
                cfg.unreadable.append(path)
            elif scope == "manager":
                manager_lines.setdefault(path, [])
            continue
        m = _LINE.match(line)
        number = whole_or_none(m.group(3), low=1, high=U32_MAX) if m else None
        if m is None or number is None:
            if line.startswith("LINE "):
                cfg.malformed.append(line[:200])
            continue
        scope, path, _, content = m.groups()
        _, _, value = content.partition("=")
        soft, hard, valid = parse_value(value)
        setting = Setting(path, number, content.strip(), soft, hard, valid)
        if scope == "unit":
            cfg.unit.append(setting)
        else:
            manager_lines.setdefault(path, []).append(setting)
    cfg.manager_files = _manager_order(list(manager_lines))
    for path in cfg.manager_files:
        cfg.manager.extend(manager_lines[path])
    return cfg
