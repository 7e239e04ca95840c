"""systemd-sysctl, re-enacted: the value a key gets at boot from the sysctl.d files.

Follows systemd 252 ``src/sysctl/sysctl.c`` and ``src/basic/conf-files.c``:

* Directories in priority order: /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
  /usr/lib/sysctl.d (and /lib/sysctl.d on split-/usr builds). Only ``*.conf`` names that
  do not start with a dot count. A name found in an earlier directory hides the same
  name in later ones (a symlink to /dev/null or an empty file therefore masks).
* The surviving files are read in ``strcmp`` order of their names, across directories.
* systemd does NOT read /etc/sysctl.conf; Debian/Ubuntu's procps ships the symlink
  /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf, which is how it is applied.
* Lines end at \\n, \\r, \\0 or combinations (``read_line``); blanks are stripped; lines
  starting with ``#`` or ``;`` are comments; ``-key = v`` ignores write errors; a bare
  ``-key`` (no ``=``) excludes the key from glob assignments.
* Keys: if the first separator is ``.``, dots and slashes swap; the last assignment of a
  key wins (an identical re-assignment keeps the first location). A glob key applies to
  keys without an explicit assignment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
               "/lib/sysctl.d")
_WHITESPACE = " \t\n\r"
_EOL = {"\n": 1, "\r": 2, "\0": 4}


@dataclass(frozen=True)
class Assignment:
    key: str  # normalized, slash-separated (net/core/somaxconn)
    value: str | None  # None: a "-key" exclusion line
    path: str
    line: int
    ignore_failure: bool = False

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def normalize(key: str) -> str:
    """systemd's sysctl_normalize(): the /proc/sys-relative path of a key."""
    m = re.search(r"[./]", key)
    if m and m.group() == ".":
        key = key[:m.start()] + key[m.start():].translate(str.maketrans("./", "/."))
    parts = [p for p in key.split("/") if p and p != "."]
    return "/".join(parts)


def read_lines(text: str) -> list[str]:
    """systemd's read_line(): \\n, \\r, \\0 and their combinations (\\r\\n, \\n\\r, ...) end
    a line; a marker seen twice, or anything after \\0, starts the next line."""
    if "\r" not in text and "\0" not in text:
        # Only \n: the same lines as the loop below, at C speed (a fleet parses these
        # files once per host and control; the loop cost ~10 ms per host).
        return (text[:-1] if text.endswith("\n") else text).split("\n") if text else []
    return read_lines_slowly(text)


def read_lines_slowly(text: str) -> list[str]:
    """:func:`read_lines`, one character at a time: the reference for every input."""
    lines: list[str] = []
    cur: list[str] = []
    seen = 0
    i = 0
    while i < len(text):
        c = text[i]
        eol = _EOL.get(c, 0)
        if seen and (seen & 4 or not eol or seen & eol):
            lines.append("".join(cur))
            cur, seen = [], 0
            continue
        if eol:
            seen |= eol
        else:
            cur.append(c)
        i += 1
    if cur or seen:
        lines.append("".join(cur))
    return lines


def parse_file(path: str, text: str) -> tuple[list[Assignment], list[str]]:
    """The assignments of one file, and the lines systemd-sysctl warns about."""
    out, warnings = [], []
    for n, raw in enumerate(read_lines(text), 1):
        p = raw.strip(_WHITESPACE)
        if not p or p[0] in "#;":
            continue
        ignore = False
        key, sep, value = p.partition("=")
        if sep:
            if key.startswith("-"):
                ignore, key = True, key[1:]
            val: str | None = value.strip(_WHITESPACE)
        elif p.startswith("-"):
            key, val = p[1:], None
        else:
            warnings.append(f"{path}:{n}: line is not an assignment, ignored: {p[:80]!r}")
            continue
        key = normalize(key.strip(_WHITESPACE))
        if not key:
            warnings.append(f"{path}:{n}: empty key, ignored")
            continue
        out.append(Assignment(key, val, path, n, ignore))
    return out, warnings


def effective_files(listing: list[tuple[str, list[str]]]) -> list[str]:
    """conf_files_list(): (dir, names) in priority order -> paths in application order."""
    chosen: dict[str, str] = {}
    for directory, names in listing:
        for name in names:
            if not name.endswith(".conf") or name.startswith(".") or "/" in name:
                continue
            chosen.setdefault(name, f"{directory.rstrip('/')}/{name}")
    keyed = sorted(chosen, key=lambda n: n.encode("utf-8", "surrogateescape"))
    return [chosen[n] for n in keyed]


@dataclass
class Resolution:
    options: dict[str, Assignment]  # in systemd's hashmap order
    files: list[str]
    unreadable: list[str]
    warnings: list[str]

    def boot_value(self, key: str) -> Assignment | None:
        """The assignment systemd-sysctl writes for ``key`` at boot, or None if none.

        An explicit assignment wins over globs; an exclusion ("-key") means none.
        Among globs, the last one applied (hashmap order) wins.
        """
        key = normalize(key)
        if key in self.options:
            opt = self.options[key]
            return opt if opt.value is not None else None
        found = None
        for opt in self.options.values():
            if opt.value is not None and _is_glob(opt.key) and _glob_match(opt.key, key):
                found = opt
        return found


def _is_glob(key: str) -> bool:
    return any(c in key for c in "*?[")


def _glob_match(pattern: str, key: str) -> bool:
    pp, kp = pattern.split("/"), key.split("/")
    return len(pp) == len(kp) and all(fnmatchcase(k, p) for p, k in zip(pp, kp, strict=True))


def resolve(listing: list[tuple[str, list[str]]], contents: dict[str, bytes | None]) -> Resolution:
    """Resolve like systemd-sysctl at boot. ``contents[path]`` None means unreadable; a
    listed path missing from ``contents`` (dangling symlink) reads as empty."""
    files = effective_files(listing)
    options: dict[str, Assignment] = {}
    unreadable, warnings = [], []
    for path in files:
        data = contents.get(path, b"")
        if data is None:
            unreadable.append(path)
            continue
        assignments, warn = parse_file(path, data.decode("utf-8", "surrogateescape"))
        warnings.extend(warn)
        for a in assignments:
            old = options.get(a.key)
            if old is not None:
                if old.value == a.value:
                    if a.ignore_failure and not old.ignore_failure:
                        options[a.key] = Assignment(old.key, old.value, old.path, old.line, True)
                    continue
                del options[a.key]
            options[a.key] = a
    return Resolution(options, files, unreadable, warnings)
