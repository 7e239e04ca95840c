"""Parsers for the JADA-CFG probes' output (tab-separated records, free text base64'd).

The probes (``jada_checks.facts.cfg_probes``) filter on the target: only settings files,
assignments of :data:`ENV_NAMES` and model-related arguments ever leave it. Every parser
here is total: malformed input raises :class:`FactError` (the control then reports
*error*), never an unhandled exception and never a pass.

Records shared by every CFG probe: ``F`` (a settings file, see :func:`parse_file_record`),
``R`` (the git work tree root above a directory, for project settings), ``G`` (a subagent
directory) and ``T`` (the ``name`` and ``model`` lines and the key names of one subagent
file's YAML front matter; nothing else of the file leaves the target).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from jada_checks.parsers.numbers import PID_MAX, S64_MAX, U32_MAX, NumberError, whole
from jada_checks.parsers.settings import MAX_BYTES, SettingsFile, decode, missing, unusable

# The only environment variables whose names and values ever leave the target: the model
# (model-config "Setting your model"), what the aliases resolve to and the subagent model
# (model-config "Environment variables"), and where the user settings live
# (env-vars CLAUDE_CONFIG_DIR; Node's os.homedir() reads $HOME first), and the model new
# sessions start on when nothing else selects one (ANTHROPIC_DEFAULT_MODEL, v2.1.236+).
ENV_NAMES = ("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL",
             "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL",
             "CLAUDE_CODE_SUBAGENT_MODEL", "CLAUDE_CONFIG_DIR", "HOME",
             "ANTHROPIC_DEFAULT_MODEL")
INLINE_PATH = "--settings inline JSON"


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


MODE_MAX = 0o7777  # stat -c %a: permission, setuid, setgid and sticky bits


def _int(text: str, what: str, high: int, base: int = 10, low: int = 0) -> int | None:
    """A numeric field (``-`` or empty: not known), else FactError naming the field."""
    if text in ("", "-"):
        return None
    try:
        return whole(text, what, low=low, high=high, base=base)
    except NumberError as exc:
        raise FactError(str(exc)) from None


def _name(text: str) -> str:
    if text not in ENV_NAMES:
        raise FactError(f"an environment record names {text[:20]!r}, which is not gathered")
    return text


# -- settings files and git roots -------------------------------------------------------

@dataclass(frozen=True)
class DirFact:
    """A directory on a settings file's path (or above where it would be): ``owner`` None
    means it does not exist; ``mode`` includes the sticky bit (0o1000)."""

    path: str
    owner: str | None
    uid: int | None
    mode: int | None
    exists: bool


@dataclass
class FileFact:
    role: str  # user, user.dynamic, user.env, local, local.root, project, managed, ...
    path: str
    state: str  # ok, missing, dangling, notfile, unreadable, unsearchable, toobig, nohome
    size: int | None
    owner: str | None
    mode: int | None
    real: str
    dir_owner: str | None
    dir_mode: int | None
    readable: bool | None  # by the service user
    settings: SettingsFile
    # every directory from the file's own up to /, and from its real path's (AD records)
    chain: list[DirFact] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return self.state not in ("missing", "nohome")


def _settings_for(state: str, path: str, size: int | None, data: str) -> SettingsFile:
    if state == "ok":
        return decode(_b64_bytes(data), path)  # decode() re-checks the size cap
    if state in ("missing", "nohome"):
        return missing(path or "(no home directory)")
    messages = {
        "dangling": "a symbolic link to a missing file",
        "notfile": "not a regular file",
        "unreadable": "cannot be read by the checking user",
        "unsearchable": "a directory on its path cannot be searched by the checking user, "
                        "so whether it exists is unknown",
        "toobig": f"larger than {MAX_BYTES} bytes ({size}); not transferred",
    }
    if state not in messages:
        raise FactError(f"unknown file state {state[:20]!r}")
    kind = "too_big" if state == "toobig" else "unreadable"
    return unusable(path, kind, messages[state])


def parse_file_record(rec: list[str]) -> FileFact:
    """``F role path state size owner mode real dir_owner:dir_mode readable data``."""
    if len(rec) != 11:
        raise FactError(f"a file record has {len(rec)} fields")
    _, role, path, state, size, owner, mode, real, dst, rd, data = rec
    path, size_n = b64(path), _int(size, "a settings file's size", S64_MAX)
    d_owner, _, d_mode = dst.partition(":")
    return FileFact(
        role, path, state, size_n, None if owner == "-" else owner,
        _int(mode, "a settings file's mode", MODE_MAX, 8), b64(real),
        None if d_owner in ("", "-") else d_owner,
        _int(d_mode, "a settings directory's mode", MODE_MAX, 8) if d_mode else None,
        {"1": True, "0": False}.get(rd), _settings_for(state, path, size_n, data))


def parse_dir_record(rec: list[str]) -> DirFact:
    """``AD path owner uid mode``: ``-`` for a missing directory, ``?`` when stat failed."""
    if len(rec) != 5:
        raise FactError(f"a directory record has {len(rec)} fields")
    _, path, owner, uid, mode = rec
    if owner == "-":
        return DirFact(b64(path), None, None, None, False)
    if owner == "?":
        return DirFact(b64(path), None, None, None, True)
    return DirFact(b64(path), owner, _int(uid, "a directory's uid", U32_MAX),
                   _int(mode, "a directory's mode", MODE_MAX, 8), True)


@dataclass(frozen=True)
class GitRoot:
    """The nearest directory at or above ``start`` holding ``.git``; ``state`` is ``ok``,
    ``none`` (not in a work tree) or ``unknown`` (a directory could not be searched)."""

    start: str
    root: str
    state: str


def _git_root(rec: list[str]) -> GitRoot:
    if len(rec) != 4 or rec[3] not in ("ok", "none", "unknown"):
        raise FactError("a git root record is malformed")
    return GitRoot(b64(rec[1]), b64(rec[2]), rec[3])


@dataclass(frozen=True)
class AgentFile:
    """One ``*.md`` file of an agents directory. ``state``: ok, unreadable, nofm (no front
    matter) or open (front matter never closed); ``problem`` says why a value is unknown."""

    path: str
    state: str
    name: str | None = None
    model: str | None = None
    keys: tuple[str, ...] = ()
    problem: str = ""


@dataclass
class AgentDir:
    """A subagent directory (sub-agents "Choose the subagent scope"). ``state``: ok,
    missing, unsearchable, unreadable, notdir, toomany (more files than the probe reads)
    or partial (part of the tree could not be listed)."""

    role: str
    path: str
    state: str = "ok"
    files: list[AgentFile] = field(default_factory=list)


AGENT_DIR_STATES = ("ok", "missing", "unsearchable", "unreadable", "notdir", "toomany",
                    "partial")
_YAML_SPECIAL = tuple("[{|>&*!%@`")


def yaml_scalar(raw: str) -> tuple[str | None, str]:
    """The value of a one-line plain or quoted YAML scalar, or (None, why)."""
    v = raw.strip()
    if not v:
        return None, ""
    if v[0] in "'\"":
        end = v.find(v[0], 1)
        while v[0] == "'" and end != -1 and v[end + 1:end + 2] == "'":
            end = v.find("'", end + 2)
        if end == -1 or v[end + 1:].strip() and not v[end + 1:].strip().startswith("#"):
            return None, "a quoted YAML value that does not close on its line"
        inner = v[1:end]
        return (inner.replace("''", "'") if v[0] == "'" else inner), ""
    if v.startswith(_YAML_SPECIAL):
        return None, "not a plain YAML scalar"
    return v.split(" #", 1)[0].strip(), ""


def _agent_file(rec: list[str]) -> tuple[str, AgentFile]:
    if len(rec) != 5 or rec[3] not in ("ok", "unreadable", "nofm", "open"):
        raise FactError("an agent file record is malformed")
    path, state = b64(rec[2]), rec[3]
    name = model = None
    keys: list[str] = []
    problem = ""
    for line in b64(rec[4]).splitlines() if state == "ok" else []:
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key:
            continue
        keys.append(key)
        if key in ("name", "model"):
            parsed, why = yaml_scalar(value)
            if why:
                problem = f"its front-matter {key!r} is {why}"
            if key == "name":
                name = parsed
            else:
                model = parsed
    return b64(rec[1]), AgentFile(path, state, name, model, tuple(keys), problem)


@dataclass
class FilesFact:
    home: str = ""  # the passwd home of the unit's User= (root without one)
    real_home: str = ""
    workdir: str = ""
    dynamic_user: bool = False
    roots: dict[str, GitRoot] = field(default_factory=dict)
    files: list[FileFact] = field(default_factory=list)
    agents: dict[str, AgentDir] = field(default_factory=dict)

    def role(self, role: str) -> list[FileFact]:
        return [f for f in self.files if f.role == role]


def _common(rec: list[str], files: list[FileFact], roots: dict[str, GitRoot],
            agents: dict[str, AgentDir] | None = None) -> bool:
    """Handle the records every CFG probe may write; False when ``rec`` is not one."""
    agents = {} if agents is None else agents
    if rec[0] == "F":
        files.append(parse_file_record(rec))
    elif rec[0] == "R":
        root = _git_root(rec)
        roots[root.start] = root
    elif rec[0] == "G":
        if len(rec) != 4 or rec[3] not in AGENT_DIR_STATES:
            raise FactError("an agents directory record is malformed")
        path = b64(rec[2])
        d = agents.setdefault(path, AgentDir(rec[1], path))
        d.role, d.state = rec[1], rec[3]
    elif rec[0] == "T":
        path, f = _agent_file(rec)
        agents.setdefault(path, AgentDir("", path)).files.append(f)
    elif rec[0] == "AD":
        if not files:
            raise FactError("a directory record comes before any file record")
        files[-1].chain.append(parse_dir_record(rec))
    else:
        return False
    return True


def parse_files(text: str) -> FilesFact:
    out = FilesFact()
    for rec in _records(text):
        if rec[0] == "H" and len(rec) == 4:
            out.home, out.real_home, out.workdir = b64(rec[1]), b64(rec[2]), b64(rec[3])
        elif rec[0] == "D" and len(rec) == 2 and rec[1] in ("0", "1"):
            out.dynamic_user = rec[1] == "1"
        elif not _common(rec, out.files, out.roots, out.agents):
            raise FactError(f"unexpected record {rec[0][:10]!r} with {len(rec)} fields")
    if not any(f.role == "user" for f in out.files):
        raise FactError("no user settings record in the answer")
    return out


# -- unit environment -----------------------------------------------------------------

@dataclass(frozen=True)
class EnvAssignment:
    name: str
    value: str
    where: str  # "unit Environment=", "EnvironmentFile=/etc/x", "ExecStart /usr/bin/env", ...


@dataclass
class EnvFact:
    assignments: list[EnvAssignment] = field(default_factory=list)  # lowest precedence first
    main_pid_env: dict[str, str] = field(default_factory=dict)
    main_pid_seen: bool = False
    problems: list[str] = field(default_factory=list)
    files: list[FileFact] = field(default_factory=list)
    agents: dict[str, AgentDir] = field(default_factory=dict)

    def last(self, name: str) -> EnvAssignment | None:
        return next((a for a in reversed(self.assignments) if a.name == name), None)

    @property
    def main_pid_model(self) -> str | None:
        return self.main_pid_env.get("ANTHROPIC_MODEL")


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


def _environment_assignment(scope: str, text: str) -> EnvAssignment | None:
    """One ``E`` record: a JSON string ``NAME=value`` from the unit's Environment= (scope
    ``unit``) or the manager's environment (``default``); None for a name not followed."""
    try:
        assignment = json.loads(text)
    except json.JSONDecodeError:
        raise FactError("an Environment= assignment is not a JSON string") from None
    pair = _split_assignment(assignment) if isinstance(assignment, str) else None
    if not pair:
        return None
    where = "unit Environment=" if scope == "unit" \
        else "manager environment (systemctl show-environment)"
    return EnvAssignment(pair[0], pair[1], where)


def parse_env(text: str) -> EnvFact:
    """Records: ``E scope JSON``, ``EF path ignore status``, ``EV path line``, ``MS``
    (the main process's environment was read), ``M name value``, plus ``F``."""
    out = EnvFact()
    defaults: list[EnvAssignment] = []
    unit: list[EnvAssignment] = []
    files: list[EnvAssignment] = []
    roots: dict[str, GitRoot] = {}
    for rec in _records(text):
        kind = rec[0]
        if kind == "E" and len(rec) == 3:
            found = _environment_assignment(rec[1], rec[2])
            if found:
                (defaults if rec[1] == "default" else unit).append(found)
        elif kind == "EF" and len(rec) == 4:
            if rec[3] != "ok" and rec[2] != "1":
                out.problems.append(f"EnvironmentFile={b64(rec[1])} is {rec[3]}")
        elif kind == "EV" and len(rec) == 3:
            pair = _split_assignment(b64(rec[2]))
            if pair:
                files.append(EnvAssignment(pair[0], unquote_env_file_value(pair[1]),
                                           f"EnvironmentFile={b64(rec[1])}"))
        elif kind == "MS" and len(rec) == 1:
            out.main_pid_seen = True
        elif kind == "M" and len(rec) == 3:
            out.main_pid_env.setdefault(_name(rec[1]), b64(rec[2]))
        elif not _common(rec, out.files, roots, out.agents):
            raise FactError(f"unexpected record {kind[:10]!r} with {len(rec)} fields")
    # systemd.exec(5): EnvironmentFile= overrides Environment=, which overrides the
    # manager's own environment (DefaultEnvironment=, systemctl set-environment).
    out.assignments = defaults + unit + files
    return out


# -- ExecStart ------------------------------------------------------------------------

ARG_KINDS = ("model", "permission-mode", "setting-sources", "skip", "allow-skip",
             "settings-file", "settings-inline", "agent", "agents-inline", "fallback-model")
INLINE_KINDS = ("settings-inline", "agents-inline")  # JSON written on the command line


@dataclass(frozen=True)
class SettingsArg:
    """A ``--settings`` value: a file (``given`` as written, ``path`` resolved against the
    working directory) or inline JSON (``inline``, parsed like a settings file)."""

    given: str
    path: str | None = None
    inline: SettingsFile | None = None


@dataclass(frozen=True)
class Arg:
    kind: str  # one of ARG_KINDS
    value: str
    extra: str = ""


def _arg(kind: str, value: str, extra: str) -> Arg:
    if kind not in ARG_KINDS:
        raise FactError(f"unknown argument kind {kind[:20]!r}")
    if kind in INLINE_KINDS:
        if extra not in ("ok", "toobig"):
            raise FactError(f"an inline --{kind.split('-')[0]} record has no state")
        return Arg(kind, value, extra)
    return Arg(kind, b64(value), b64(extra))


class Args:
    """Claude Code arguments in argv order; later ones win, as with any repeated option."""

    args: list[Arg]

    @property
    def models(self) -> list[str]:
        return [a.value for a in self.args if a.kind == "model"]

    @property
    def skip_permissions(self) -> bool:
        return any(a.kind == "skip" for a in self.args)

    @property
    def allow_skip_permissions(self) -> bool:
        return any(a.kind == "allow-skip" for a in self.args)

    @property
    def permission_mode(self) -> str | None:
        return next((a.value for a in reversed(self.args) if a.kind == "permission-mode"),
                    None)

    @property
    def setting_sources(self) -> str | None:
        """The raw value of the last ``--setting-sources`` (``""`` loads none)."""
        return next((a.value for a in reversed(self.args) if a.kind == "setting-sources"),
                    None)

    @property
    def agent(self) -> str | None:
        """The last ``--agent``: the main thread runs as that subagent."""
        return next((a.value for a in reversed(self.args) if a.kind == "agent"), None)

    @property
    def fallback_models(self) -> list[str] | None:
        """The last ``--fallback-model``, split on commas (cli-reference)."""
        raw = next((a.value for a in reversed(self.args) if a.kind == "fallback-model"), None)
        return None if raw is None else [m.strip() for m in raw.split(",") if m.strip()]

    @property
    def agents_json(self) -> tuple[dict[str, object] | None, str]:
        """The last ``--agents`` JSON (subagent definitions), or (None, why it is unknown);
        (None, "") when there is none."""
        last = next((a for a in reversed(self.args) if a.kind == "agents-inline"), None)
        if last is None:
            return None, ""
        if last.extra == "toobig":
            return None, f"--agents is larger than {MAX_BYTES} bytes; not transferred"
        try:
            data = json.loads(_b64_bytes(last.value).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None, "--agents is not valid JSON"
        if not isinstance(data, dict):
            return None, "--agents is not a JSON object"
        return data, ""

    @property
    def settings(self) -> SettingsArg | None:
        last = next((a for a in reversed(self.args) if a.kind.startswith("settings-")), None)
        if last is None:
            return None
        if last.kind == "settings-file":
            return SettingsArg(last.value, last.extra or last.value)
        if last.extra == "toobig":
            return SettingsArg("", inline=unusable(
                INLINE_PATH, "too_big", f"larger than {MAX_BYTES} bytes; not transferred"))
        return SettingsArg("", inline=decode(_b64_bytes(last.value), INLINE_PATH))


@dataclass(frozen=True)
class WrapperOp:
    """What an ``ExecStart=`` wrapper does to the environment before the command runs:
    ``set`` (``env NAME=VALUE``), ``sh`` (``NAME=word`` in an ``sh -c`` script, value a raw
    shell word), ``unset``, ``clear`` (``env -i``), ``chdir`` (``env -C``) or ``opaque``
    (an ``env`` option the suite does not interpret)."""

    program: str
    action: str
    name: str
    value: str


@dataclass
class ExecFact(Args):
    args: list[Arg] = field(default_factory=list)
    wrappers: list[WrapperOp] = field(default_factory=list)
    files: list[FileFact] = field(default_factory=list)
    agents: dict[str, AgentDir] = field(default_factory=dict)


def parse_exec(text: str) -> ExecFact:
    """Records ``X kind value extra`` (an argument), ``W program action name value`` (a
    wrapper's effect on the environment), plus ``F``."""
    out = ExecFact()
    roots: dict[str, GitRoot] = {}
    for rec in _records(text):
        if rec[0] == "X" and len(rec) == 4:
            out.args.append(_arg(rec[1], rec[2], rec[3]))
        elif rec[0] == "W" and len(rec) == 5:
            action = rec[2]
            if action not in ("set", "sh", "unset", "clear", "chdir", "opaque"):
                raise FactError(f"unknown wrapper action {action[:20]!r}")
            name = rec[3] if action in ("clear", "chdir", "opaque") else _name(rec[3])
            out.wrappers.append(WrapperOp(b64(rec[1]), action, name, b64(rec[4])))
        elif not _common(rec, out.files, roots, out.agents):
            raise FactError(f"unexpected record {rec[0][:10]!r} with {len(rec)} fields")
    return out


_SH_WORD = re.compile(r"'([^']*)'|\"((?:[^\"\\]|\\.)*)\"|\\(.)|([^'\"\\]+)", re.S)


def shell_word(raw: str) -> str | None:
    """The value of a POSIX shell word without expansions; None when the shell would
    compute it (``$``, backquotes outside single quotes), which the suite does not do."""
    out, pos = [], 0
    for m in _SH_WORD.finditer(raw):
        if m.start() != pos:
            return None
        pos = m.end()
        single, double, escaped, plain = m.groups()
        if single is not None:
            out.append(single)
        elif double is not None:
            if re.search(r"(?<!\\)[$`]", double):
                return None
            out.append(re.sub(r"\\([\\\"$`])", r"\1", double.replace("\\\n", "")))
        elif escaped is not None:
            out.append(escaped)
        else:
            if "$" in plain or "`" in plain:
                return None
            out.append(plain)
    return "".join(out) if pos == len(raw) else None


# -- claude processes -----------------------------------------------------------------

# How a process was recognised as Claude Code (cfg_probes.AGENT): what names it and where.
AGENT_KINDS = {
    "name": "the name claude",
    "package-bin": "@anthropic-ai/claude-code's bin/claude.exe",
    "platform-bin": "a platform package's claude binary",
    "native-version": "a native installer version",
    "cli.js": "node with @anthropic-ai/claude-code's cli.js",
    "cli-wrapper": "node with @anthropic-ai/claude-code's cli-wrapper.cjs",
}
AGENT_VIA = {"exe": "/proc/PID/exe", "argv0": "argv[0]",
             "argv0-link": "argv[0] through its links", "comm": "the kernel's process name",
             "script": "the interpreter's script"}
LABEL_MAX = 160  # a path in a message


def short(path: str, limit: int = LABEL_MAX) -> str:
    """A path for a message: its end kept (the part that says what it is)."""
    return path if len(path) <= limit else "…" + path[-(limit - 1):]


@dataclass(frozen=True)
class ScannedProcess:
    """One process of the unit as the scan saw it: never its arguments beyond argv[0],
    and an interpreter's script only when it names an existing file."""

    pid: int
    kind: str | None  # a key of AGENT_KINDS; None: not Claude Code
    via: str | None  # a key of AGENT_VIA
    exe: str  # /proc/PID/exe ("" when it could not be read: not root)
    argv0: str
    script: str
    comm: str

    def describe(self) -> str:
        """``pid N /usr/bin/python3.11 (argv[0] python3, script /opt/x.py)``."""
        what = short(self.exe) if self.exe else f"{self.comm or '?'} (/proc/PID/exe not read)"
        extra = []
        if self.argv0 and self.argv0 != self.exe:
            extra.append(f"argv[0] {short(self.argv0)}")
        if self.script:
            extra.append(f"script {short(self.script)}")
        return f"pid {self.pid} {what}" + (f" ({', '.join(extra)})" if extra else "")

    @property
    def label(self) -> str:
        """What the agent executes, for a message: ``/usr/local/bin/claude``."""
        if self.kind in ("cli.js", "cli-wrapper", "name") and self.script:
            return f"{short(self.argv0 or self.exe)} {short(self.script)}"
        return short(self.argv0 if self.argv0.startswith("/") or not self.exe
                     else self.exe)


@dataclass
class ClaudeProcess(Args):
    pid: int
    cwd: str
    euid: int | None
    passwd_home: str  # home of the effective uid in the user database ("" if none)
    env_readable: bool = True  # False: the environment could not be read (not root)
    env: dict[str, str] = field(default_factory=dict)  # ENV_NAMES only
    args: list[Arg] = field(default_factory=list)
    scan: ScannedProcess | None = None

    @property
    def model(self) -> str | None:
        return self.models[-1] if self.models else None

    @property
    def env_model(self) -> str | None:
        return self.env.get("ANTHROPIC_MODEL")

    @property
    def who(self) -> str:
        """``pid 12 (/usr/local/bin/claude)``: the process and what it executes."""
        return f"pid {self.pid}" + (f" ({self.scan.label})" if self.scan else "")


@dataclass
class ProcsFact:
    scanned: int = 0
    claude: list[ClaudeProcess] = field(default_factory=list)
    roots: dict[str, GitRoot] = field(default_factory=dict)
    files: list[FileFact] = field(default_factory=list)
    processes: list[ScannedProcess] = field(default_factory=list)
    agents: dict[str, AgentDir] = field(default_factory=dict)

    @property
    def others(self) -> list[ScannedProcess]:
        """The unit's processes that are not Claude Code."""
        return [q for q in self.processes if q.kind is None]


def _scanned(rec: list[str]) -> ScannedProcess:
    pid = _int(rec[1], "a process's pid", PID_MAX, low=1)
    kind = None if rec[2] == "-" else rec[2]
    via = None if rec[3] == "-" else rec[3]
    if pid is None or (kind is not None and kind not in AGENT_KINDS) \
            or (via is not None and via not in AGENT_VIA) or (kind is None) != (via is None):
        raise FactError("a scanned-process record is malformed")
    return ScannedProcess(pid, kind, via, *(b64(f) for f in rec[4:8]))


def parse_procs(text: str) -> ProcsFact:
    """Records ``C count``, ``Q pid kind via exe argv0 script comm`` (every process of the
    unit), ``P pid cwd euid home envstate``, ``A pid kind value extra``, ``V pid name
    value``, plus ``F`` and ``R``."""
    out = ProcsFact()
    by_pid: dict[int, ClaudeProcess] = {}
    scans: dict[int, ScannedProcess] = {}

    def proc(field_: str) -> ClaudeProcess:
        pid = _int(field_, "a process's pid", PID_MAX, low=1)
        if pid is None or pid not in by_pid:
            raise FactError("a record names a process that was not announced")
        return by_pid[pid]

    for rec in _records(text):
        if rec[0] == "C" and len(rec) == 2:
            out.scanned = _int(rec[1], "the count of scanned processes", PID_MAX) or 0
        elif rec[0] == "Q" and len(rec) == 8:
            q = _scanned(rec)
            scans[q.pid] = q
            out.processes.append(q)
        elif rec[0] == "P" and len(rec) == 6:
            pid = _int(rec[1], "a process's pid", PID_MAX, low=1)
            if pid is None or rec[5] not in ("ok", "-"):
                raise FactError("a process record is malformed")
            euid = _int(rec[3], "a process's euid", U32_MAX)
            p = ClaudeProcess(pid, b64(rec[2]), euid, b64(rec[4]), rec[5] == "ok",
                              scan=scans.get(pid))
            by_pid[pid] = p
            out.claude.append(p)
        elif rec[0] == "A" and len(rec) == 5:
            proc(rec[1]).args.append(_arg(rec[2], rec[3], rec[4]))
        elif rec[0] == "V" and len(rec) == 4:
            proc(rec[1]).env.setdefault(_name(rec[2]), b64(rec[3]))
        elif not _common(rec, out.files, out.roots, out.agents):
            raise FactError(f"unexpected record {rec[0][:10]!r} with {len(rec)} fields")
    return out
