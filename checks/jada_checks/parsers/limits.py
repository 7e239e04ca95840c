"""pam_limits, re-enacted: which limits.conf / limits.d entry a login session gets.

Follows linux-pam 1.5.2 ``modules/pam_limits/pam_limits.c`` (Debian 12; Ubuntu ships the
same patches) byte for byte where it matters, because "what the file seems to say" and
"what pam_limits does" differ:

* ``/etc/security/limits.conf`` is read first, then ``limits.d/*.conf`` in C-locale
  ``glob()`` order. Lines are read with ``fgets()`` into 1024 bytes; text after ``#`` is
  dropped; fields are split on C ``isspace`` (so a CRLF's ``\\r`` is just blank space);
  the type, item and value are lower-cased.
* Priorities: a user name or uid range (0) beats ``@group`` / gid (1) beats ``*`` (4).
  A later entry of the same or a higher priority replaces an earlier one; for a ``-``
  entry the soft side is decided first and a lost soft side skips the hard side too.
* ``%`` domains apply to maxlogins only; nofile/nproc entries with them are ignored.
* Debian/Ubuntu patch 027: group and ``*`` entries are not applied to root.
* ``-1``, ``-``, ``unlimited``, ``infinity`` mean RLIM_INFINITY; for nofile that becomes
  the value of ``/proc/sys/fs/nr_open`` at login. Other values go through ``strtoull``:
  ``12abc`` is 12, ``abc`` is skipped, ``-5`` wraps to 2**64-5. pam_limits checks only
  "0 and nothing parsed", not errno: a value strtoull saturates (ERANGE, e.g.
  ``99999999999999999999``) is ULLONG_MAX = RLIM_INFINITY, so for nofile it too becomes
  nr_open (``process_limit()``, ``case RLIMIT_NOFILE``).
* A two-field ``<domain> -`` line matching the user stops pam_limits altogether.
* At session time a soft value above the hard one is lowered to the hard one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jada_checks.parsers.numbers import U64_MAX, saturating

RLIM_INFINITY = U64_MAX
LINE_LENGTH = 1024
SOURCE_USER, SOURCE_GROUP, SOURCE_DEFAULT, SOURCE_NONE = 0, 1, 4, 6
_C_SPACE = b" \t\n\v\f\r"
_INFINITE_WORDS = (b"-1", b"-", b"unlimited", b"infinity")
# Items pam_limits knows (anything else is skipped with a log line).
KNOWN_ITEMS = {b"core", b"data", b"fsize", b"memlock", b"nofile", b"rss", b"stack", b"cpu",
               b"nproc", b"as", b"maxlogins", b"maxsyslogins", b"nonewprivs", b"priority",
               b"locks", b"sigpending", b"msgqueue", b"nice", b"rtprio", b"chroot"}
RLIMIT_ITEMS = ("nofile", "nproc")


@dataclass(frozen=True)
class Entry:
    """One four-field line as pam_limits scans it (before deciding whether it applies)."""

    path: str
    line: int
    domain: bytes
    type: bytes  # soft, hard, -
    item: bytes
    value: bytes

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def text(self) -> str:
        return b" ".join((self.domain, self.type, self.item, self.value)).decode(
            "utf-8", "replace")


@dataclass(frozen=True)
class Identity:
    """The login user as pam_limits sees it (``getpwnam`` + group membership)."""

    name: str
    uid: int
    gid: int  # primary group
    gids: frozenset[int] = frozenset()
    groups: frozenset[str] = frozenset()


@dataclass
class Side:
    value: int | None = None  # None: no entry set it (the session keeps the inherited value)
    infinite: bool = False  # written as unlimited/-1/infinity/-
    entry: Entry | None = None
    source: int = SOURCE_NONE


@dataclass
class Limit:
    soft: Side = field(default_factory=Side)
    hard: Side = field(default_factory=Side)

    def session_pair(self) -> tuple[int | None, int | None]:
        """(soft, hard) as setrlimit() receives them: soft above hard is lowered."""
        soft, hard = self.soft.value, self.hard.value
        if soft is not None and hard is not None and soft > hard:
            soft = hard
        return soft, hard


@dataclass
class Result:
    limits: dict[str, Limit]
    disabled_by: Entry | None = None  # a matching "<domain> -" line: nothing is applied
    skipped: list[str] = field(default_factory=list)  # lines pam_limits logs and skips
    files: list[str] = field(default_factory=list)


def c_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Split like ``fgets(buf, 1024)``: long lines come out in 1023-byte pieces."""
    out = []
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line:
            continue
        while len(line) > LINE_LENGTH - 1:
            out.append((n, line[:LINE_LENGTH - 1]))
            line = line[LINE_LENGTH - 1:]
        out.append((n, line))
    return out


def strtoul(text: bytes, bits: int = 64) -> tuple[int, int]:
    """C ``strtoull(text, &end, 10)``: (value, bytes consumed); 0 consumed means no number."""
    i = 0
    while i < len(text) and text[i] in _C_SPACE:
        i += 1
    neg = False
    if i < len(text) and text[i] in b"+-":
        neg = text[i] == ord("-")
        i += 1
    start = i
    while i < len(text) and 48 <= text[i] <= 57:
        i += 1
    if i == start:
        return 0, 0
    top = 2**bits - 1
    value = saturating(text[start:i], top + 1)  # a 5000-digit value is ERANGE, not a crash
    if value > top:
        return top, i
    return ((-value) & top if neg else value), i


def _range(domain: bytes) -> tuple[str, int, int] | None:
    """parse_uid_range(): ("none"|"one"|"min"|"mm", min, max), or None for an invalid range."""
    if b":" not in domain:
        return ("none", -1, -1)
    body = domain[1:] if domain[:1] in (b"@", b"%") else domain
    lo_text, _, hi_text = body.partition(b":")
    kind, lo = "mm", -1
    if body.startswith(b":"):
        kind = "one"
    else:
        lo, used = strtoul(lo_text)
        if used == 0 or used != len(lo_text):
            return None
        lo &= 2**32 - 1
    if not hi_text:
        return None if kind == "one" else ("min", lo, -1)
    hi, used = strtoul(hi_text)
    if used == 0 or used != len(hi_text):
        return None
    hi &= 2**32 - 1
    return (kind, hi if kind == "one" else lo, hi)


def _value(item: bytes, value: bytes) -> tuple[int, bool] | None:
    """(rlimit value, written as infinite) or None when pam_limits rejects the value."""
    if value in _INFINITE_WORDS:
        return RLIM_INFINITY, True
    number, used = strtoul(value)
    if used == 0:
        return None
    return number, False


class _Session:
    def __init__(self, who: Identity, nr_open: int | None, debian: bool):
        self.who = who
        self.nr_open = nr_open
        self.debian = debian
        self.result = Result({name: Limit() for name in RLIMIT_ITEMS})

    def process(self, entry: Entry, source: int) -> None:
        if entry.item not in KNOWN_ITEMS:
            self.result.skipped.append(f"{entry.where}: unknown limit item {entry.text()!r}")
            return
        item = entry.item.decode()
        if item not in RLIMIT_ITEMS:
            return
        if entry.type not in (b"soft", b"hard", b"-"):
            self.result.skipped.append(f"{entry.where}: unknown limit type {entry.text()!r}")
            return
        parsed = _value(entry.item, entry.value)
        if parsed is None:
            self.result.skipped.append(f"{entry.where}: wrong limit value {entry.text()!r}")
            return
        value, infinite = parsed
        if item == "nofile" and becomes_nr_open(value) and self.nr_open is not None:
            value = self.nr_open
        limit = self.result.limits[item]
        for side_name, flag in (("soft", entry.type in (b"soft", b"-")),
                                ("hard", entry.type in (b"hard", b"-"))):
            if not flag:
                continue
            side: Side = getattr(limit, side_name)
            if side.source < source:
                return
            setattr(limit, side_name, Side(value, infinite, entry, source))

    def scan(self, path: str, data: bytes) -> bool:
        """Apply one file; False when a matching ``<domain> -`` line stops everything."""
        who = self.who
        uname = who.name.encode("utf-8", "surrogateescape")
        root = self.debian and who.uid == 0
        for n, raw in c_lines(data):
            line = raw.split(b"\0", 1)[0].lstrip(_C_SPACE).split(b"#", 1)[0]
            fields = _c_split(line)[:4]
            if not fields:
                continue
            domain = fields[0]
            ltype = fields[1].lower() if len(fields) > 1 else b""
            rng = _range(domain)
            if rng is None:
                self.result.skipped.append(f"{path}:{n}: invalid uid range {_t(domain)!r}")
                continue
            kind, lo, hi = rng
            if len(fields) == 4:
                entry = Entry(path, n, domain, ltype, fields[2].lower(), fields[3].lower())
                # The branch order of pam_limits.c, Debian's root rule included: for root
                # an @/% domain falls through to the uid-range branch below.
                if domain == uname:
                    self.process(entry, SOURCE_USER)
                elif domain.startswith(b"@") and not root:
                    if self._group_match(domain, kind, lo, hi):
                        self.process(entry, SOURCE_GROUP)
                elif domain.startswith(b"%") and not root:
                    continue  # maxlogins only
                elif kind == "none":
                    if domain == b"*" and not root:
                        self.process(entry, SOURCE_DEFAULT)
                elif self._uid_match(kind, lo, hi):
                    self.process(entry, SOURCE_USER)
            elif len(fields) == 2 and ltype.startswith(b"-"):
                if self._stop_match(domain, uname, kind, lo, hi):
                    self.result.disabled_by = Entry(path, n, domain, ltype, b"", b"")
                    return False
            else:
                self.result.skipped.append(f"{path}:{n}: invalid line {_t(line.strip())!r}")
        return True

    def _group_match(self, domain: bytes, kind: str, lo: int, hi: int) -> bool:
        who = self.who
        if kind == "none":
            return domain[1:].decode("utf-8", "surrogateescape") in who.groups
        if kind == "one":
            return hi in who.gids or hi == who.gid
        if kind == "mm" and who.gid > hi:
            return False
        return who.gid >= lo

    def _uid_match(self, kind: str, lo: int, hi: int) -> bool:
        uid = self.who.uid
        if kind == "one":
            return uid == hi
        if kind == "mm" and uid > hi:
            return False
        return uid >= lo

    def _stop_match(self, domain: bytes, uname: bytes, kind: str, lo: int, hi: int) -> bool:
        if domain == uname:
            return True
        if domain.startswith(b"@"):
            return self._group_match(domain, kind, lo, hi)
        if kind == "none":
            return False
        return self._uid_match(kind, lo, hi)


def _c_split(line: bytes) -> list[bytes]:
    out, cur = [], bytearray()
    for b in line:
        if b in _C_SPACE:
            if cur:
                out.append(bytes(cur))
                cur = bytearray()
        else:
            cur.append(b)
    if cur:
        out.append(bytes(cur))
    return out


def _t(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def limits_order(paths: list[str]) -> list[str]:
    """limits.conf first, then ``limits.d/*.conf`` sorted as C-locale glob() sorts."""
    conf = [p for p in paths if p.endswith("/limits.conf")]
    rest = sorted((p for p in paths if "/limits.d/" in p and p.endswith(".conf")
                   and not p.rsplit("/", 1)[1].startswith(".")),
                  key=lambda p: p.encode("utf-8", "surrogateescape"))
    return conf[:1] + rest


def evaluate(files: dict[str, bytes], who: Identity, nr_open: int | None,
             debian: bool = True) -> Result:
    """The nofile/nproc limits pam_limits gives ``who``; ``files`` maps path to content."""
    session = _Session(who, nr_open, debian)
    for path in limits_order(list(files)):
        session.result.files.append(path)
        if not session.scan(path, files[path]):
            break
    return session.result


def entries(files: dict[str, bytes]) -> list[Entry]:
    """Every complete four-field line of every file (for checks over all users)."""
    out = []
    for path in limits_order(list(files)):
        for n, raw in c_lines(files[path]):
            line = raw.split(b"\0", 1)[0].lstrip(_C_SPACE).split(b"#", 1)[0]
            fields = _c_split(line)[:4]
            if len(fields) == 4:
                out.append(Entry(path, n, fields[0], fields[1].lower(), fields[2].lower(),
                                 fields[3].lower()))
    return out


def becomes_nr_open(value: int) -> bool:
    """Whether pam_limits replaces a parsed nofile value with fs.nr_open at login: any value
    equal to RLIM_INFINITY, written as unlimited or saturated by strtoull."""
    return value == RLIM_INFINITY


def shadowed_by(all_entries: list[Entry], entry: Entry) -> list[Entry]:
    """The later entries that replace ``entry`` for every user it applies to, or [] if it can
    still apply to someone. pam_limits keeps the last entry of the same or a higher priority
    per side (soft/hard); a later valid nofile entry of the same domain matches exactly the
    same users at the same priority, so it replaces every side it sets (``process_limit()``,
    ``parse_config_file()``: limits.conf, then limits.d in order)."""
    if nofile_value(entry) is None:
        return []
    sides = sides_of(entry)
    later = all_entries[all_entries.index(entry) + 1:]
    winners: dict[str, Entry] = {}
    for e in later:
        if e.domain != entry.domain or nofile_value(e) is None:
            continue
        for side in sides:
            if side in sides_of(e):
                winners[side] = e
    if set(winners) != set(sides):
        return []
    return sorted(set(winners.values()), key=all_entries.index)


def sides_of(entry: Entry) -> tuple[str, ...]:
    return {b"soft": ("soft",), b"hard": ("hard",), b"-": ("soft", "hard")}.get(entry.type, ())


def nofile_value(entry: Entry) -> tuple[int, bool] | None:
    """The value pam_limits would use for a nofile entry, or None if it skips the entry.
    (value, written as infinite); see :func:`becomes_nr_open` for what login does with it."""
    if entry.item != b"nofile" or entry.type not in (b"soft", b"hard", b"-"):
        return None
    if entry.domain.startswith(b"%") or _range(entry.domain) is None:
        return None
    return _value(entry.item, entry.value)
