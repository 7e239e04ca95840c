"""Parsers for the JADA-CFG probes' output (tab-separated records, free text base64'd).

The probes (registered in ``jada_checks.controls.cfg``) filter on the target: only settings
files, ``ANTHROPIC_MODEL``/``CLAUDE_CONFIG_DIR`` assignments and model-related arguments
ever leave it. Every parser here is total: malformed input raises :class:`FactError`
(the control then reports *error*), never an unhandled exception and never a pass.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from jada_checks.parsers.numbers import PID_MAX, S64_MAX, U32_MAX, NumberError, whole
from jada_checks.parsers.settings import MAX_BYTES, SettingsFile, decode, missing, unusable

ENV_NAMES = ("ANTHROPIC_MODEL", "CLAUDE_CONFIG_DIR")
MODE_MAX = 0o7777  # stat -c %a: permission, setuid, setgid and sticky bits


class FactError(ValueError):
    """The probe's answer is not in the expected shape."""


def b64(text: str) -> str:
    """Decode a base64 field to text (undecodable bytes replaced: these are labels)."""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        raise FactError("a field is not valid base64") from None


def _b64_bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FactError("file content is not valid base64") from None


def _records(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line.strip()]


# -- settings files -------------------------------------------------------------------

@dataclass
class FileFact:
    role: str  # user, local, project, managed, managed.d
    path: str
    state: str  # ok, missing, dangling, notfile, unreadable, toobig, nohome
    size: int | None
    owner: str | None
    mode: int | None
    real: str
    dir_owner: str | None
    dir_mode: int | None
    readable: bool | None  # by the service user
    settings: SettingsFile

    @property
    def exists(self) -> bool:
        return self.state not in ("missing", "nohome")


@dataclass
class FilesFact:
    home: str = ""
    real_home: str = ""
    workdir: str = ""
    files: list[FileFact] = field(default_factory=list)

    def role(self, role: str) -> list[FileFact]:
        return [f for f in self.files if f.role == role]


def _int(text: str, what: str, high: int, base: int = 10, low: int = 0) -> int | None:
    """A numeric field (``-`` or empty: not known), else FactError naming the field."""
    if text in ("", "-"):
        return None
    try:
        return whole(text, what, low=low, high=high, base=base)
    except NumberError as exc:
        raise FactError(str(exc)) from None


def _settings_for(state: str, path: str, size: int | None, data: str) -> SettingsFile:
    if state == "ok":
        return decode(_b64_bytes(data), path)  # decode() re-checks the size cap
    if state in ("missing", "nohome"):
        return missing(path or "(no home directory)")
    messages = {
        "dangling": "a symbolic link to a missing file",
        "notfile": "not a regular file",
        "unreadable": "cannot be read by the checking user",
        "toobig": f"larger than {MAX_BYTES} bytes ({size}); not transferred",
    }
    if state not in messages:
        raise FactError(f"unknown file state {state[:20]!r}")
    kind = "too_big" if state == "toobig" else "unreadable"
    return unusable(path, kind, messages[state])


def parse_files(text: str) -> FilesFact:
    out = FilesFact()
    for rec in _records(text):
        if rec[0] == "H" and len(rec) == 4:
            out.home, out.real_home, out.workdir = b64(rec[1]), b64(rec[2]), b64(rec[3])
        elif rec[0] == "F" and len(rec) == 11:
            _, role, path, state, size, owner, mode, real, dst, rd, data = rec
            path, size_n = b64(path), _int(size, "a settings file's size", S64_MAX)
            d_owner, _, d_mode = dst.partition(":")
            out.files.append(FileFact(
                role, path, state, size_n, None if owner == "-" else owner,
                _int(mode, "a settings file's mode", MODE_MAX, 8), b64(real),
                None if d_owner in ("", "-") else d_owner,
                _int(d_mode, "a settings directory's mode", MODE_MAX, 8) if d_mode else None,
                {"1": True, "0": False}.get(rd), _settings_for(state, path, size_n, data)))
        else:
            raise FactError(f"unexpected record {rec[0][:10]!r} with {len(rec)} fields")
    if not any(f.role == "user" for f in out.files):
        raise FactError("no user settings record in the answer")
    return out


# -- unit environment -----------------------------------------------------------------

@dataclass(frozen=True)
class EnvAssignment:
    name: str
    value: str
    where: str  # "unit Environment=", "EnvironmentFile=/etc/x", "manager environment"


@dataclass
class EnvFact:
    assignments: list[EnvAssignment] = field(default_factory=list)  # lowest precedence first
    main_pid_model: str | None = None
    main_pid_seen: bool = False
    problems: list[str] = field(default_factory=list)

    def last(self, name: str) -> EnvAssignment | None:
        return next((a for a in reversed(self.assignments) if a.name == name), None)


def unquote_env_file_value(raw: str) -> str:
    """Value of a ``KEY=VALUE`` line of an EnvironmentFile= (systemd.exec(5) quoting)."""
    v = raw.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        inner = v[1:-1]
        return re.sub(r"\\(.)", r"\1", inner) if v[0] == '"' else inner
    return re.sub(r"\\(.)", r"\1", v)


def _split_assignment(text: str) -> tuple[str, str] | None:
    name, sep, value = text.partition("=")
    name = name.strip()
    return (name, value) if sep and name in ENV_NAMES else None


def parse_env(text: str) -> EnvFact:
    """Records: ``E scope JSON``, ``EF path ignore status``, ``EV path line``, ``M value``."""
    out = EnvFact()
    defaults: list[EnvAssignment] = []
    unit: list[EnvAssignment] = []
    files: list[EnvAssignment] = []
    for rec in _records(text):
        kind = rec[0]
        if kind == "E" and len(rec) == 3:
            try:
                assignment = json.loads(rec[2])
            except json.JSONDecodeError:
                raise FactError("an Environment= assignment is not a JSON string") from None
            pair = _split_assignment(assignment) if isinstance(assignment, str) else None
            if pair:
                where = "unit Environment=" if rec[1] == "unit" \
                    else "manager environment (systemctl show-environment)"
                (defaults if rec[1] == "default" else unit).append(
                    EnvAssignment(pair[0], pair[1], where))
        elif kind == "EF" and len(rec) == 4:
            if rec[3] != "ok" and rec[2] != "1":
                out.problems.append(f"EnvironmentFile={b64(rec[1])} is {rec[3]}")
        elif kind == "EV" and len(rec) == 3:
            pair = _split_assignment(b64(rec[2]))
            if pair:
                files.append(EnvAssignment(pair[0], unquote_env_file_value(pair[1]),
                                           f"EnvironmentFile={b64(rec[1])}"))
        elif kind == "M" and len(rec) == 2:
            out.main_pid_seen = True
            value = b64(rec[1])
            out.main_pid_model = value.partition("=")[2] if value else None
        else:
            raise FactError(f"unexpected record {kind[:10]!r} with {len(rec)} fields")
    # systemd.exec(5): EnvironmentFile= overrides Environment=, which overrides the
    # manager's own environment (DefaultEnvironment=, systemctl set-environment).
    out.assignments = defaults + unit + files
    return out


# -- ExecStart ------------------------------------------------------------------------

@dataclass
class ExecFact:
    models: list[str] = field(default_factory=list)
    skip_permissions: bool = False
    allow_skip_permissions: bool = False
    permission_mode: str | None = None
    settings_flag: bool = False
    setting_sources: set[str] | None = None


def _json_str(text: str) -> str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise FactError("an ExecStart argument is not a JSON string") from None
    if not isinstance(value, str):
        raise FactError("an ExecStart argument is not a string")
    return value


def parse_exec(text: str) -> ExecFact:
    """Records ``X <JSON fragment>``: ``"--model","v"``, ``"--model=v"``, flag names."""
    out = ExecFact()
    for rec in _records(text):
        if rec[0] != "X" or len(rec) != 2:
            raise FactError(f"unexpected record {rec[0][:10]!r} with {len(rec)} fields")
        frag = rec[1]
        if frag.startswith('"--dangerously-skip-permissions'):
            out.skip_permissions = True
            continue
        if frag.startswith('"--allow-dangerously-skip-permissions'):
            out.allow_skip_permissions = True
            continue
        if frag.startswith('"--settings'):
            out.settings_flag = True
            continue
        first, comma, rest = _split_fragment(frag)
        flag, eq, value = first.partition("=")
        if not eq:
            value = _json_str(rest) if comma else ""
        if flag == "--model":
            out.models.append(value)
        elif flag == "--permission-mode":
            out.permission_mode = value
        elif flag == "--setting-sources":
            out.setting_sources = {s.strip() for s in value.split(",") if s.strip()}
        else:
            raise FactError(f"unexpected ExecStart fragment for {flag[:20]!r}")
    return out


def _split_fragment(frag: str) -> tuple[str, bool, str]:
    """Split ``"a","b"`` into the first JSON string (decoded) and the raw rest."""
    m = re.match(r'^("(?:[^"\\]|\\.)*")(,)?(.*)$', frag)
    if not m:
        raise FactError("an ExecStart fragment is not JSON")
    return _json_str(m.group(1)), bool(m.group(2)), m.group(3)


# -- claude processes -----------------------------------------------------------------

@dataclass(frozen=True)
class ClaudeProcess:
    pid: int
    cwd: str
    model: str | None  # the last --model value, if any
    model_flags: int
    env_model: str | None  # ANTHROPIC_MODEL from /proc/PID/environ, if set
    skip_permissions: bool
    permission_mode: str | None
    env_readable: bool = True  # False: the environment could not be read (not root)


@dataclass
class ProcsFact:
    scanned: int = 0
    claude: list[ClaudeProcess] = field(default_factory=list)


def parse_procs(text: str) -> ProcsFact:
    out = ProcsFact()
    for rec in _records(text):
        if rec[0] == "C" and len(rec) == 2:
            out.scanned = _int(rec[1], "the count of scanned processes", PID_MAX) or 0
        elif rec[0] == "P" and len(rec) == 8:
            pid = _int(rec[1], "a process's pid", PID_MAX, low=1)
            if pid is None:
                raise FactError("a process record has no pid")
            readable = rec[5] != "-"
            env = b64(rec[5]) if readable else ""
            model = b64(rec[3])
            flags = _int(rec[4], "a process's count of --model flags", U32_MAX) or 0
            out.claude.append(ClaudeProcess(
                pid, b64(rec[2]), model if flags > 0 else None, flags,
                env.partition("=")[2] if env else None, rec[6] == "1", b64(rec[7]) or None,
                readable))
        else:
            raise FactError(f"unexpected record {rec[0][:10]!r} with {len(rec)} fields")
    return out
