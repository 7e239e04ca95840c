"""From gathered facts to what Claude Code reads, for the unit and for each claude process.

Decides, with sources (docs/settings.md):

* the service's environment: the manager's < the ``HOME`` systemd sets for a static
  ``User=`` < ``Environment=`` < ``EnvironmentFile=`` (systemd.exec(5)) < ``ExecStart=``
  wrappers (``env NAME=VALUE cmd``, ``sh -c 'NAME=VALUE exec cmd'``), which run last;
* the user settings file: ``$CLAUDE_CONFIG_DIR/settings.json`` (env-vars), else
  ``$HOME/.claude/settings.json``, else the passwd home of the user the process runs as
  (Node's ``os.homedir()``); a ``DynamicUser=`` service gets no ``HOME`` and nss-systemd
  gives its user the home ``/`` (observed on systemd 252; nss-systemd(8));
* the project settings of a process started in a directory: the files there and, below a
  git root, the root's ``settings.local.json`` (anthropics/claude-code#86187 vs #74023:
  both readings are judged);
* the ``--settings`` layer (a file, relative to the working directory, or inline JSON);
* the subagent definitions, highest priority first (sub-agents, "Choose the subagent
  scope"): managed (``/etc/claude-code/.claude/agents``), ``--agents`` JSON, the project's
  ``.claude/agents`` from the working directory up to the git root (the closest wins), the
  user's (``.claude/agents`` beside the user settings file).

A running process is read from its own command line and environment, not the unit's.
Nothing here runs commands; gaps become ``Inputs.unresolved`` (the control says *error*).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jada_checks.facts.cfg_probes import MANAGED_DIR
from jada_checks.model_resolution import (
    DEFAULT_VAR,
    DOC_SETTINGS,
    ENV_VAR,
    REMAP_VARS,
    SUBAGENT_VAR,
    AgentDef,
    Inputs,
    Layer,
    Reading,
    Source,
    managed_layers,
    parse_sources,
)
from jada_checks.parsers.cfg_facts import (
    AgentDir,
    Args,
    ClaudeProcess,
    EnvFact,
    ExecFact,
    FileFact,
    FilesFact,
    GitRoot,
    ProcsFact,
    shell_word,
)
from jada_checks.parsers.settings import missing

ISSUE_ROOT = "anthropics/claude-code#86187"
ISSUE_CWD = "anthropics/claude-code#74023"


@dataclass
class Facts:
    files: FilesFact
    env: EnvFact
    exec: ExecFact
    user: str  # the unit's User= ("" when none; the name derived for a DynamicUser)
    procs: ProcsFact | None = None
    table: dict[str, FileFact] = field(default_factory=dict)
    agents: dict[str, AgentDir] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sources = [self.files.files, self.env.files, self.exec.files,
                   self.procs.files if self.procs else []]
        for files in sources:
            for f in files:
                self.table.setdefault(f.path, f)
        for dirs in (self.files.agents, self.env.agents, self.exec.agents,
                     self.procs.agents if self.procs else {}):
            for path, d in dirs.items():
                self.agents.setdefault(path, d)

    @property
    def roots(self) -> dict[str, GitRoot]:
        return {**self.files.roots, **(self.procs.roots if self.procs else {})}


@dataclass
class Built:
    inputs: Inputs
    user_file: str = ""  # the user settings file in effect ("" when unknown)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Value:
    value: str
    where: str  # "unit Environment=", "ExecStart /usr/bin/env", "the environment of pid 7"


def service_env(f: Facts, unresolved: list[str]) -> dict[str, Value]:
    """The unit's environment as the started command sees it (gathered names only)."""
    env: dict[str, Value] = {}
    for a in f.env.assignments:
        if a.where.startswith("manager"):
            env[a.name] = Value(a.value, a.where)
    if f.user and not f.files.dynamic_user and f.files.home:
        env["HOME"] = Value(f.files.home, f"systemd (home of User={f.user})")
    for a in f.env.assignments:
        if not a.where.startswith("manager"):
            env[a.name] = Value(a.value, a.where)
    unresolved += f.env.problems
    for w in f.exec.wrappers:
        where = f"ExecStart {w.program}"
        if w.action == "set":
            env[w.name] = Value(w.value, where)
        elif w.action == "sh":
            value = shell_word(w.value)
            if value is None:
                unresolved.append(f"{where} sets {w.name} with a shell expansion; its value "
                                  "is not computed")
            else:
                env[w.name] = Value(value, where)
        elif w.action == "unset":
            env.pop(w.name, None)
        elif w.action == "clear":
            env.clear()
        elif w.action == "chdir":
            unresolved.append(f"{where} -C changes the working directory; project settings "
                              "are not followed there")
        else:
            unresolved.append(f"{where} has an option jada-checks does not interpret")
    return env


def user_file(env: dict[str, Value], fallback: str, base: str, unresolved: list[str],
              who: str) -> tuple[str, str]:
    """(path, note): CLAUDE_CONFIG_DIR, else HOME, else ``fallback`` (passwd home)."""
    cfg, home = env.get("CLAUDE_CONFIG_DIR"), env.get("HOME")
    if cfg is not None:
        if not cfg.value:
            unresolved.append(f"CLAUDE_CONFIG_DIR is empty in {cfg.where}; where Claude Code "
                              "then reads user settings is not documented")
            return "", ""
        d = cfg.value if cfg.value.startswith("/") else f"{base.rstrip('/')}/{cfg.value}"
        path = f"{d.removesuffix('/')}/settings.json"
        return path, f"user settings are {path} (CLAUDE_CONFIG_DIR from {cfg.where})"
    if home is not None:
        if not home.value:
            unresolved.append(f"HOME is empty in {home.where}; Node's os.homedir() then "
                              "returns '' and the user settings path is relative")
            return "", ""
        path = f"{home.value.removesuffix('/')}/.claude/settings.json"
        note = "" if home.where.startswith("systemd") else \
            f"user settings are {path} (HOME from {home.where})"
        return path, note
    if not fallback:
        unresolved.append(f"{who} has no HOME and no home directory in the user database")
        return "", ""
    return f"{fallback.removesuffix('/')}/.claude/settings.json", ""


def _layer(f: Facts, path: str, scope: str, unresolved: list[str], name: str = "",
           suffix: str = "") -> Layer | None:
    fact = f.table.get(path)
    if fact is None:
        unresolved.append(f"{path} was not gathered on the target")
        return None
    return Layer(scope, fact.settings, fact.readable, name, suffix)


def project_layers(f: Facts, start: str, unresolved: list[str], home: str = "") -> tuple[
        list[Layer], list[Reading]]:
    """The project layers of a process started in ``start``, highest first, and the other
    reading. Since v2.1.211 Claude Code reads ``.claude/settings.local.json`` at the git
    root, still reads one an earlier version left in the start directory (the root's wins
    for a key both set), and reads the shared file from the start directory only; the local
    file stays in the start directory when the root is the home directory, or the root or
    its ``.git`` or ``.claude`` is not owned by the user (settings, "Where Claude Code keeps
    the local file in a git repository", v2.1.240). Ownership is not gathered, so the
    start-directory reading is judged too."""
    d = start.rstrip("/")
    cwd_local, cwd_project = (f"{d}/.claude/settings.local.json",
                              f"{d}/.claude/settings.json")
    root = f.roots.get(d or "/")
    if root is None:
        unresolved.append(f"whether {start} is in a git work tree was not gathered")
        return [], []
    if root.state == "unknown":
        unresolved.append(f"whether {start} is in a git work tree is unknown: a directory "
                          "on its path cannot be searched by the checking user")
        return [], []
    layers = [la for la in (_layer(f, cwd_local, "local", unresolved),
                            _layer(f, cwd_project, "project", unresolved)) if la]
    top = root.root.rstrip("/")
    if root.state != "ok" or top == d or (home and top == home.rstrip("/")):
        return layers, []
    root_local = f"{top}/.claude/settings.local.json"
    at_root = _layer(f, root_local, "local", unresolved)
    if at_root is None or len(layers) != 2:
        return layers, []
    question = (f"{start} is below the git root {root.root}: since v2.1.211 Claude Code "
                f"reads {root_local} there ({DOC_SETTINGS}, \"Where Claude Code keeps the "
                "local file in a git repository\"; reproduced on v2.1.233 in "
                f"{ISSUE_ROOT}), but only the files of {start} ({ISSUE_CWD}) when the root, "
                "its .git or its .claude is not owned by the user, which is not gathered; "
                "both are judged")
    return [at_root, *layers], [Reading(question, layers)]


def flag_layer(f: Facts, args: Args, unresolved: list[str], prefix: str,
               suffix: str) -> Layer | None:
    arg = args.settings
    if arg is None:
        return None
    if arg.inline is not None:
        return Layer("flag", arg.inline, None, f"{prefix}--settings inline JSON", suffix)
    return _layer(f, arg.path or "", "flag", unresolved, f"{prefix}--settings {arg.given}",
                  suffix)


def _sources(args: Args, unresolved: list[str], label: str) -> set[str] | None:
    raw = args.setting_sources
    if raw is None:
        return None
    sources, unknown = parse_sources(raw)
    if unknown:
        unresolved.append(f"{label} names unknown setting sources {unknown} (known: user, "
                          "project, local)")
    return sources


def _chain(f: Facts, flag: Layer | None, project: list[Layer],
           user: Layer | None) -> list[Layer]:
    base = f.files.role("managed")
    managed = managed_layers(base[0].settings if base else missing("(managed settings)"),
                             [x.settings for x in f.files.role("managed.d")])
    return managed + ([flag] if flag else []) + project + ([user] if user else [])


def _env_sources(env: dict[str, Value], label: str) -> tuple[Source | None,
                                                             dict[str, Source]]:
    model = env.get(ENV_VAR)
    process_env = Source("process-env", label.format(name=ENV_VAR, where=model.where),
                         model.value) if model else None
    extra = {var: Source("process-env", label.format(name=var, where=env[var].where),
                         env[var].value)
             for var in (*REMAP_VARS, SUBAGENT_VAR, DEFAULT_VAR) if var in env}
    return process_env, extra


_DIR_STATES = {"unsearchable": "is behind a directory the checking user cannot search",
               "unreadable": "cannot be listed by the checking user",
               "toomany": "holds more subagent files than the probe reads",
               "partial": "has subdirectories the checking user cannot list"}


def _dir_defs(f: Facts, path: str, unresolved: list[str]) -> list[AgentDef]:
    """The definitions Claude Code loads from one agents directory: a file without a
    ``name``, with a name that starts with ``-`` or holds ``:``, without a ``description``
    or whose YAML does not parse is skipped (sub-agents, "Subagent files Claude Code
    skips")."""
    d = f.agents.get(path)
    if d is None:
        unresolved.append(f"the subagent directory {path} was not gathered on the target")
        return []
    if d.state in _DIR_STATES:
        unresolved.append(f"the subagent directory {path} {_DIR_STATES[d.state]}; the "
                          "models of its subagents are unknown")
        return []
    out = []
    for a in sorted(d.files, key=lambda x: x.path):
        if a.state == "unreadable":
            unresolved.append(f"the subagent file {a.path} cannot be read by the checking "
                              "user; its model is unknown")
        elif a.state == "ok" and a.name and not a.name.startswith("-") and ":" not in a.name \
                and "description" in a.keys:
            if a.problem:
                unresolved.append(f"the subagent file {a.path}: {a.problem}")
            else:
                out.append(AgentDef(a.name, a.model, f"agent {a.name!r} in {a.path}"))
    return out


def _project_agent_dirs(f: Facts, start: str) -> list[str]:
    """``.claude/agents`` from the working directory up to the git root, closest first."""
    d = start.rstrip("/") or "/"
    root = f.roots.get(d)
    top = root.root.rstrip("/") or "/" if root is not None and root.state == "ok" else d
    out = []
    while True:
        out.append(f"{d.rstrip('/')}/.claude/agents")
        if d == top or d == "/":
            return out
        d = d.rsplit("/", 1)[0] or "/"


def agent_defs(f: Facts, args: Args, user_path: str, start: str, unresolved: list[str],
               prefix: str, suffix: str) -> list[AgentDef]:
    """Every subagent definition a claude process sees, highest priority first."""
    out = _dir_defs(f, f"{MANAGED_DIR}/.claude/agents", unresolved)
    data, why = args.agents_json
    if why:
        unresolved.append(f"{prefix}{why}{suffix}")
    for name, spec in (data or {}).items():
        model = spec.get("model") if isinstance(spec, dict) else None
        out.append(AgentDef(name, model if isinstance(model, str) else None,
                            f"agent {name!r} in {prefix}--agents{suffix}"))
    for path in _project_agent_dirs(f, start):
        out += _dir_defs(f, path, unresolved)
    if user_path:
        out += _dir_defs(f, f"{user_path.rsplit('/', 1)[0]}/agents", unresolved)
    return out


def _readings_with(chain_of: list[Layer], project: list[Layer], readings: list[Reading]
                   ) -> list[Reading]:
    """Each other project reading, as a whole chain (the rest of the files unchanged)."""
    out = []
    for r in readings:
        chain = [la for la in chain_of if la not in project]
        i = next((k for k, la in enumerate(chain) if la.scope == "user"), len(chain))
        out.append(Reading(r.question, chain[:i] + r.layers + chain[i:]))
    return out


def config_inputs(f: Facts) -> Built:
    """What the unit's configuration gives the next claude process it starts."""
    unresolved: list[str] = []
    env = service_env(f, unresolved)
    fallback = f.files.home or ("/" if f.files.dynamic_user else "")
    path, note = user_file(env, fallback, f.files.workdir, unresolved,
                           f"the service user {f.user or 'root'}")
    user = _layer(f, path, "user", unresolved) if path else None
    home = env["HOME"].value if "HOME" in env else f.files.home
    project, readings = project_layers(f, f.files.workdir or "/", unresolved, home)
    flag = flag_layer(f, f.exec, unresolved, "ExecStart ", "")
    chain = _chain(f, flag, project, user)
    process_env, extra = _env_sources(env, "{where} {name}")
    agents = agent_defs(f, f.exec, path, f.files.workdir or "/", unresolved, "ExecStart ",
                        "")
    inputs = Inputs(f.exec.models, "ExecStart --model", process_env, chain,
                    _sources(f.exec, unresolved, "ExecStart --setting-sources"),
                    "ExecStart --setting-sources", extra,
                    _readings_with(chain, project, readings), unresolved,
                    f.exec.agent, "ExecStart --agent", agents, f.exec.fallback_models,
                    "ExecStart --fallback-model")
    return Built(inputs, path, [note] if note else [])


def process_inputs(f: Facts, p: ClaudeProcess) -> Built:
    """What a running claude process read: its own argv, environment and working
    directory, with the managed files of the host."""
    unresolved: list[str] = []
    who = f"pid {p.pid}"
    env = {k: Value(v, f"the environment of {who}") for k, v in p.env.items()}
    path, note = user_file(env, p.passwd_home, p.cwd or "/", unresolved,
                           f"{who} (uid {p.euid})")
    user = _layer(f, path, "user", unresolved) if path else None
    if not p.cwd:
        unresolved.append(f"the working directory of {who} is unknown")
        project: list[Layer] = []
        readings: list[Reading] = []
    else:
        project, readings = project_layers(f, p.cwd, unresolved,
                                           p.env.get("HOME") or p.passwd_home)
    flag = flag_layer(f, p, unresolved, "", f" of {who}")
    sources_label = f"--setting-sources {p.setting_sources!r} of {who}"
    chain = _chain(f, flag, project, user)
    process_env, extra = _env_sources(env, "{name} in {where}")
    agents = agent_defs(f, p, path, p.cwd or "/", unresolved, "", f" of {who}")
    inputs = Inputs(p.models, f"--model of {who}", process_env, chain,
                    _sources(p, unresolved, sources_label), sources_label, extra,
                    _readings_with(chain, project, readings), unresolved,
                    p.agent, f"--agent of {who}", agents, p.fallback_models,
                    f"--fallback-model of {who}")
    return Built(inputs, path, [note] if note else [])
