"""Which model Claude Code really starts with: pure resolution from gathered facts.

The rules, as the documentation states them at Claude Code v2.1.240 (docs/settings.md
cites each one):

* main model, highest first: ``--model``; ``ANTHROPIC_MODEL`` (a settings ``env`` block
  beats the inherited environment for the same variable, env-vars "Precedence"); the
  ``model`` key (managed > ``--settings`` > local > project > user); then
  ``ANTHROPIC_DEFAULT_MODEL`` (v2.1.236+), only when nothing else selects a model. A managed
  ``model`` is a default, not a lock: ``--model`` and ``ANTHROPIC_MODEL`` beat it
  (settings-reference ``model``); the lock is ``availableModels``;
* the ``agent`` setting or ``--agent``: the main thread runs that subagent's model;
* ``availableModels`` (managed list alone when managed settings define it, else the merged
  lists) replaces a blocked selection at start-up with the default model, which
  ``enforceAvailableModels`` makes the first entry of the list;
* subagents: ``CLAUDE_CODE_SUBAGENT_MODEL``, else each definition's front-matter ``model``;
  fallback chains: ``--fallback-model``, else the highest ``fallbackModel``;
* a file Claude Code skips contributes nothing: a file that is not valid JSON; a managed
  file's top-level keys the schema rejects; a user, project or local file with a value the
  schema rejects is skipped whole or only those values (undocumented which: both judged).
  A file whose content is unknown (unreadable) makes the answer unknown only when some
  content could change the verdict (:func:`verdicts`).

An alias resolves to the model ``ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL`` names when
one is set (model-config, "Environment variables"); the resolved model is what is judged.

Where the documentation leaves the order open, :func:`resolve` picks one reading, records
the question in ``Resolution.ambiguities`` and every model another reading would give in
``Resolution.alternatives``; callers judge all of them rather than guess. Nothing here
reads files or runs commands.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from jada_checks.parsers.settings import SettingsFile, decode

ENV_VAR = "ANTHROPIC_MODEL"
SUBAGENT_VAR = "CLAUDE_CODE_SUBAGENT_MODEL"
DEFAULT_VAR = "ANTHROPIC_DEFAULT_MODEL"  # v2.1.236+: the model when nothing else selects one
# Values Claude Code ignores in ANTHROPIC_DEFAULT_MODEL (model-config, "Set a default model").
DEFAULT_IGNORED = ("default", "inherit", "opusplan", "haiku")
# Problems that make a file not JSON: Claude Code skips it, it contributes nothing.
BROKEN = ("empty", "not_utf8", "invalid_json", "not_object")
FAMILIES = ("opus", "sonnet", "haiku", "fable")
# Alias family -> the variable that pins it (model-config, "Environment variables").
FAMILY_VARS = {"opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
               "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
               "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL"}
REMAP_VARS = tuple(FAMILY_VARS.values())
SCOPES = ("managed", "flag", "local", "project", "user")  # highest precedence first
SOURCE_NAMES = ("user", "project", "local")  # what --setting-sources selects from
# Documented aliases (model-config, "Model aliases"); ``[1m]`` selects the 1M context.
# fable appears as an alias in the settings reference (advisorModel); treated as floating.
ALIAS = re.compile(r"^(default|best|sonnet|opus|haiku|opusplan|fable)(\[1m\])?$", re.I)
ONE_M = "[1m]"

DOC_MODEL = "https://code.claude.com/docs/en/model-config"
DOC_SETTINGS = "https://code.claude.com/docs/en/settings"
DOC_ENV = "https://code.claude.com/docs/en/env-vars"
DOC_CLI = "https://code.claude.com/docs/en/cli-reference"
DOC_REFERENCE = "https://code.claude.com/docs/en/settings-reference"
DOC_MANAGED_FILES = "https://code.claude.com/docs/en/managed-settings"
DOC_SUBAGENTS = "https://code.claude.com/docs/en/sub-agents"


@dataclass(frozen=True)
class Source:
    """One place that sets a model. ``value`` is a model name: not a secret."""

    kind: str  # flag, settings-env, process-env, settings, default-env, agent, available,
    #           agent-def, fallback, none
    label: str
    value: str

    def __str__(self) -> str:
        return f"{self.label} = {self.value!r}"


# The reading in which nothing sets a model: Claude Code's account-dependent default.
NO_MODEL = Source("none", "no source (Claude Code's account-dependent default)", "default")


@dataclass(frozen=True)
class Layer:
    """A settings file in the chain; ``readable`` is whether the service user can read it.

    Messages call it ``name (pointer)suffix``: ``user settings /home/jada/.claude/settings.json
    (/model)``, ``--settings /etc/x.json (/model) of pid 123``.
    """

    scope: str
    file: SettingsFile
    readable: bool | None = None
    name: str = ""
    suffix: str = ""

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def title(self) -> str:
        return self.name or f"{self.scope} settings {self.path}"

    def label(self, pointer: str) -> str:
        return f"{self.title} ({pointer}){self.suffix}"


@dataclass(frozen=True)
class Reading:
    """Another set of settings files that may be the real one (an undocumented question)."""

    question: str
    layers: list[Layer]


@dataclass(frozen=True)
class AgentDef:
    """A subagent definition: ``model`` None when it has none (it inherits)."""

    name: str
    model: str | None
    label: str  # "agent 'reviewer' in /home/jada/.claude/agents/reviewer.md"


@dataclass
class Inputs:
    argv_models: list[str] = field(default_factory=list)  # --model values, in argv order
    argv_label: str = "ExecStart --model"
    process_env: Source | None = None  # ANTHROPIC_MODEL from the unit or /proc/PID/environ
    layers: list[Layer] = field(default_factory=list)  # highest precedence first
    setting_sources: set[str] | None = None  # from --setting-sources, if given
    sources_label: str = "--setting-sources"
    env: dict[str, Source] = field(default_factory=dict)  # REMAP_VARS, SUBAGENT_VAR, ...
    readings: list[Reading] = field(default_factory=list)  # other possible file chains
    unresolved: list[str] = field(default_factory=list)  # known gaps from gathering
    agent_flag: str | None = None  # --agent (the last one)
    agent_label: str = "ExecStart --agent"
    agents: list[AgentDef] = field(default_factory=list)  # by priority, highest first
    fallback_flag: list[str] | None = None  # --fallback-model entries
    fallback_label: str = "ExecStart --fallback-model"


@dataclass
class Resolution:
    winner: Source | None
    overridden: list[Source]
    ambiguities: list[str] = field(default_factory=list)
    alternatives: list[Source] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # why the answer is unknown
    notes: list[str] = field(default_factory=list)  # facts worth saying (excluded files)
    remaps: dict[str, list[Source]] = field(default_factory=dict)  # variable -> values
    subagent: list[Source] = field(default_factory=list)
    fallback: list[Source] = field(default_factory=list)
    unknown: list[Layer] = field(default_factory=list)  # files whose content is unknown

    @property
    def model(self) -> str | None:
        return self.winner.value if self.winner else None


def is_alias(model: str) -> bool:
    return bool(ALIAS.match(model.strip()))


def managed_layers(base: SettingsFile, dropins: list[SettingsFile]) -> list[Layer]:
    """Managed files highest precedence first: drop-ins later in name order win."""
    ordered = sorted(dropins, key=lambda f: f.path.rsplit("/", 1)[-1])
    return [Layer("managed", f) for f in reversed(ordered)] + [Layer("managed", base)]


def parse_sources(value: str) -> tuple[set[str], list[str]]:
    """``--setting-sources`` value -> (sources, unknown names); empty loads none."""
    names = [s.strip() for s in value.split(",") if s.strip()]
    return {n for n in names if n in SOURCE_NAMES}, [n for n in names if n not in SOURCE_NAMES]


def _string_at(data: dict[str, Any] | None, *keys: str) -> Any:
    cur: Any = data
    for key in keys:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return cur


def layer_state(layer: Layer) -> str:
    """``absent``, ``broken`` (not JSON: Claude Code skips it), ``unknown`` (its content
    could not be read) or ``ok``."""
    f = layer.file
    if not f.exists:
        return "absent"
    if f.data is None:
        return "broken" if any(p.kind in BROKEN for p in f.problems) else "unknown"
    if layer.readable is False:
        return "unknown"
    return "ok"


def bad_keys(f: SettingsFile) -> list[str]:
    """Top-level keys whose value the schema rejects (the first step of each pointer)."""
    out: list[str] = []
    for p in f.errors:
        if p.kind == "schema" and p.where.startswith("/") and len(p.where) > 1:
            key = p.where[1:].split("/", 1)[0].replace("~1", "/").replace("~0", "~")
            if key not in out:
                out.append(key)
    return out


def layer_data(layer: Layer) -> dict[str, Any] | None:
    """What a file contributes: nothing when skipped or unknown; without the top-level keys
    the schema rejects (managed: documented; others: the "bad values" reading)."""
    if layer_state(layer) != "ok":
        return None
    drop = bad_keys(layer.file)
    return {k: v for k, v in (layer.file.data or {}).items() if k not in drop}


def _settings_sources(layers: list[Layer]) -> tuple[list[Source], list[Source]]:
    """Every settings ``model`` and ``env.ANTHROPIC_MODEL``, highest precedence first."""
    models: list[Source] = []
    envs: list[Source] = []
    for layer in layers:
        data = layer_data(layer)
        for keys, out, kind, ptr in (
                (("model",), models, "settings", "/model"),
                (("env", ENV_VAR), envs, "settings-env", f"/env/{ENV_VAR}")):
            value = _string_at(data, *keys)
            if isinstance(value, str) and value.strip():
                out.append(Source(kind, layer.label(ptr), value.strip()))
    return models, envs


def _enabled(layers: list[Layer], sources: set[str] | None) -> list[Layer]:
    if sources is None:
        return layers
    return [la for la in layers if la.scope in ("managed", "flag") or la.scope in sources]


def _excluded_notes(inp: Inputs, layers: list[Layer]) -> list[str]:
    if inp.setting_sources is None:
        return []
    loaded = ", ".join(sorted(inp.setting_sources)) or "none of user, project, local"
    out = []
    for la in layers:
        if la in _enabled(layers, inp.setting_sources) or not la.file.usable:
            continue
        value = _string_at(la.file.data, "model")
        if isinstance(value, str):
            out.append(f"{la.label('/model')} = {value!r} is not loaded ({inp.sources_label} "
                       f"loads {loaded})")
    return out


def _skipped_notes(layers: list[Layer]) -> tuple[list[str], list[Layer]]:
    """Notes on files Claude Code skips or drops keys of, and the layers of unknown content."""
    notes, unknown = [], []
    for la in layers:
        state = layer_state(la)
        if state == "broken":
            first = la.file.problems[-1].message
            where = (f"{DOC_MANAGED_FILES}, \"Find entries Claude Code dropped\"" if
                     la.scope == "managed" else f"{DOC_SETTINGS}, \"Fix a broken settings file\"")
            notes.append(f"{la.title} is not valid JSON ({first}): Claude Code skips it, so it "
                         f"contributes nothing ({where}){la.suffix}")
        elif state == "unknown":
            unknown.append(la)
        elif state == "ok" and bad_keys(la.file) and la.scope == "managed":
            notes.append(f"{la.title}: Claude Code drops the keys the schema rejects "
                         f"({', '.join(bad_keys(la.file))}) and keeps the rest "
                         f"({DOC_MANAGED_FILES})")
    return notes, unknown


def why_unknown(layer: Layer) -> str:
    if layer.readable is False and layer.file.usable:
        return "not readable by the service user, and how Claude Code treats that is not " \
               "documented"
    return layer.file.problems[-1].message if layer.file.problems else "unknown content"


# -- availableModels ----------------------------------------------------------------------

@dataclass(frozen=True)
class Allowlist:
    entries: list[str]
    label: str  # "managed settings /etc/claude-code/managed-settings.json (/availableModels)"
    enforce: bool


def _family(model: str) -> str | None:
    low = model.lower().removesuffix(ONE_M)
    if low in ("best",):
        return "opus"
    if low == "opusplan":
        return "sonnet"
    return next((f for f in FAMILIES if f in low), None)


def permits(entries: list[str], model: str) -> bool:
    """Whether an availableModels list admits ``model`` (model-config, "Restrict model
    selection"): an entry is a family (``sonnet``), a version prefix or a full ID; an entry
    naming a specific model of a family disables that family's wildcard; ``[1m]`` is
    stripped from both; the Default option (``default``) stays usable."""
    low = model.strip().lower().removesuffix(ONE_M)
    if low == "default":
        return True
    clean = [e.strip().lower().removesuffix(ONE_M) for e in entries if e.strip()]
    if low in clean:
        return True
    fam = _family(low)
    specific = [e for e in clean if e not in FAMILIES and _family(e) == fam]
    if not is_alias(low) and any(low.startswith(e + "-") for e in specific):
        return True
    return fam is not None and fam in clean and not specific


def _family_versions(entries: list[str], alias: str) -> list[str]:
    """The specific entries an alias may land on (the newest permitted version)."""
    fam = _family(alias)
    return [e for e in entries if e.strip().lower() not in FAMILIES and _family(e) == fam]


def allowlist(layers: list[Layer]) -> Allowlist | None:
    """The effective availableModels and enforceAvailableModels (settings "Lists merge
    instead of overriding"; managed-settings "Keys that fail closed")."""
    managed = [la for la in layers if la.scope == "managed" and layer_state(la) == "ok"]
    for la in managed:  # highest first: the first managed file that sets it supplies it
        raw = (la.file.data or {}).get("availableModels")
        if raw is None:
            continue
        entries = raw if "availableModels" not in bad_keys(la.file) else []
        entries = [e for e in entries if isinstance(e, str)] if isinstance(entries, list) else []
        return Allowlist(entries, la.label("/availableModels"), _enforce(layers, managed))
    found: list[str] = []
    where: list[str] = []
    for la in layers:
        if la.scope == "managed":
            continue
        raw = _string_at(layer_data(la), "availableModels")
        if isinstance(raw, list):
            found += [e for e in raw if isinstance(e, str) and e not in found]
            where.append(la.label("/availableModels"))
    if not where:
        return None
    return Allowlist(found, " + ".join(where), _enforce(layers, managed))


def _enforce(layers: list[Layer], managed: list[Layer]) -> bool:
    """enforceAvailableModels: from managed settings alone when any exist (invalid there:
    true, fail closed); else the highest file that sets it."""
    pool = managed or [la for la in layers if la.scope != "managed"]
    for la in pool:
        if la.scope == "managed" and "enforceAvailableModels" in bad_keys(la.file):
            return True
        value = _string_at(layer_data(la), "enforceAvailableModels")
        if isinstance(value, bool):
            return value
    return False


def _apply_allowlist(res: Resolution, allow: Allowlist) -> None:
    """Replace a blocked main model at start-up (model-config, "Restrict model selection")."""
    win = res.winner
    if win is None or permits(allow.entries, win.value):
        return
    versions = _family_versions(allow.entries, win.value) if is_alias(win.value) else []
    if versions:
        new = [Source("available", f"{allow.label}: the newest permitted version of "
                                   f"{win.value!r} from {win.label}", v) for v in versions]
        res.winner, res.overridden = new[0], [win, *res.overridden]
        for other in new[1:]:
            _alternative(res, other)
        return
    enforced = allow.enforce and allow.entries
    value = allow.entries[0] if enforced else "default"
    how = ("the first entry, enforceAvailableModels" if enforced
           else "the account's default model")
    res.winner = Source("available", f"{allow.label}, which blocks {win.value!r} from "
                                     f"{win.label}: Claude Code starts on {how}", value)
    res.overridden = [win, *res.overridden]
    res.alternatives = [a for a in res.alternatives if permits(allow.entries, a.value)]


# -- resolution ---------------------------------------------------------------------------

def _settings_env(chain: list[Layer], var: str, kind: str) -> Source | None:
    """``var`` from the highest settings ``env`` block of ``chain`` that sets it (a settings
    env block beats the process environment: env-vars, v2.1.240), as a ``kind`` source."""
    for layer in chain:
        value = _string_at(layer_data(layer), "env", var)
        if isinstance(value, str) and value.strip():
            return Source(kind, layer.label(f"/env/{var}"), value.strip())
    return None


def _default_model(chain: list[Layer], inp: Inputs, allow: Allowlist | None,
                   notes: list[str]) -> Source | None:
    """ANTHROPIC_DEFAULT_MODEL (v2.1.236+), from the highest settings env block, else the
    process environment; ignored for some values, under enforceAvailableModels and when
    availableModels excludes it (model-config, "Set a default model for new sessions")."""
    src = _settings_env(chain, DEFAULT_VAR, "default-env")
    if src is None and DEFAULT_VAR in inp.env and inp.env[DEFAULT_VAR].value.strip():
        env = inp.env[DEFAULT_VAR]
        src = Source("default-env", env.label, env.value.strip())
    if src is None:
        return None
    why = ""
    if src.value.lower() in DEFAULT_IGNORED:
        why = f"Claude Code ignores the value {src.value!r}"
    elif allow and allow.enforce and allow.entries:
        why = f"enforceAvailableModels is on ({allow.label})"
    elif allow and not permits(allow.entries, src.value):
        why = f"availableModels ({allow.label}) excludes it"
    if why:
        notes.append(f"{src} is ignored: {why} ({DOC_MODEL}, \"Set a default model for new "
                     "sessions\")")
        return None
    return src


def _agent(res: Resolution, inp: Inputs, chain: list[Layer]) -> None:
    """The ``agent`` setting or ``--agent``: the main thread runs that subagent's model
    (settings-reference ``agent``; sub-agents "Invoke subagents explicitly")."""
    name, label = inp.agent_flag, inp.agent_label
    if not name:
        for la in chain:
            value = _string_at(layer_data(la), "agent")
            if isinstance(value, str) and value.strip():
                name, label = value.strip(), la.label("/agent")
                break
    if not name:
        return
    found = next((a for a in inp.agents if a.name == name), None)
    if found is None:
        res.unresolved.append(
            f"{label} = {name!r} runs the main thread as that agent, but no definition of "
            "it was found in the agents directories read (managed, --agents, project, user);"
            " a built-in or plugin agent's model is not read")
        return
    if not found.model or found.model.lower() == "inherit":
        res.notes.append(f"the main thread runs {found.label} ({label}), which inherits the "
                         "model")
        return
    agent = Source("agent", f"{found.label} (model), the main thread's agent by {label}",
                   found.model)
    prior = res.winner
    res.winner, res.overridden = agent, ([prior] if prior else []) + res.overridden
    if prior is not None and prior.kind in ("flag", "settings-env", "process-env") \
            and prior.value != agent.value:
        res.ambiguities.append(
            f"the main thread runs agent {name!r} with its model ({DOC_SUBAGENTS}); whether "
            f"{prior.label} overrides that model is not documented, so both are judged")
        _alternative(res, prior)


def _main(inp: Inputs, layers: list[Layer], allow: Allowlist | None) -> Resolution:
    """The documented order, without the other readings."""
    models, envs = _settings_sources(layers)
    unresolved = list(inp.unresolved)
    flag = [Source("flag", inp.argv_label, m.strip()) for m in inp.argv_models if m.strip()]
    if len(flag) != len(inp.argv_models):
        unresolved.append(f"{inp.argv_label} has an empty value")
    # --model beats ANTHROPIC_MODEL, which beats every 'model' key, the managed one included
    # (settings-reference "model"); a settings env block's value replaces the inherited
    # one (env-vars "Precedence"): the highest file's env wins, then the process's.
    ordered: list[Source] = list(reversed(flag))  # the last --model wins
    ordered += envs
    if inp.process_env:
        ordered.append(inp.process_env)
    ordered += models
    notes: list[str] = []
    default = _default_model(layers, inp, allow, notes)
    if default:
        ordered.append(default)
    res = Resolution(ordered[0] if ordered else None, ordered[1:], unresolved=unresolved,
                     notes=notes)
    _agent(res, inp, layers)
    if allow is not None:
        _apply_allowlist(res, allow)
        if res.winner is None and allow.enforce and allow.entries:
            res.winner = Source("available", f"{allow.label}, enforceAvailableModels: "
                                "Default resolves to the first entry unless the list "
                                "admits the account's default", allow.entries[0])
            res.alternatives.append(NO_MODEL)
    return res


def resolve(inp: Inputs, *, _explore: bool = True) -> Resolution:
    """Resolve the effective model; see the module docstring for the order used."""
    layers = _enabled(inp.layers, inp.setting_sources)
    allow = allowlist(layers)
    res = _main(inp, layers, allow)
    skipped, unknown = _skipped_notes(layers)
    res.notes = _excluded_notes(inp, inp.layers) + skipped + res.notes
    res.unknown = unknown
    if not _explore:
        return res
    chains = [layers] + [_enabled(r.layers, inp.setting_sources) for r in inp.readings]
    _env_sources(res, inp, chains)
    _subagents(res, inp, allow)
    _fallback(res, inp, layers, allow)
    if res.winner is None:
        _readings(res, inp)
        return res
    for i, layer in enumerate(inp.layers):
        rest = inp.layers[:i] + inp.layers[i + 1:]
        if layer.file.has_bom and layer.file.usable:
            other = resolve(_with_layers(inp, rest), _explore=False)
            res.ambiguities.append(
                f"{layer.title} starts with a byte-order mark; some Claude Code versions "
                "ignore the whole file")
            _alternative(res, other.winner or NO_MODEL)
        elif layer.scope != "managed" and layer in layers and layer_state(layer) == "ok" \
                and bad_keys(layer.file):
            other = resolve(_with_layers(inp, rest), _explore=False)
            if (other.winner or NO_MODEL).value != res.winner.value:
                res.ambiguities.append(
                    f"{layer.title} has values the schema rejects "
                    f"({', '.join(bad_keys(layer.file))}); a -p run \"skips the broken file "
                    f"or values\" ({DOC_SETTINGS}, \"Fix a broken settings file\") without "
                    "saying which, so both readings are judged")
                _alternative(res, other.winner or NO_MODEL)
    _readings(res, inp)
    return res


def _with_layers(inp: Inputs, layers: list[Layer]) -> Inputs:
    return replace(inp, layers=layers, readings=[], unresolved=[])


def _readings(res: Resolution, inp: Inputs) -> None:
    """Other file chains the documentation leaves possible: every one must be judged."""
    for reading in inp.readings:
        other = resolve(_with_layers(inp, reading.layers), _explore=False)
        res.unresolved += [u for u in other.unresolved if u not in res.unresolved]
        res.unknown += [la for la in other.unknown if la not in res.unknown]
        if other.winner is None and res.winner is None:
            continue
        if (other.winner or NO_MODEL).value != (res.winner or NO_MODEL).value:
            res.ambiguities.append(reading.question)
            if res.winner is None:
                res.winner, res.overridden = NO_MODEL, []
            _alternative(res, other.winner or NO_MODEL)


def _env_sources(res: Resolution, inp: Inputs, chains: list[list[Layer]]) -> None:
    """Values of the alias-pinning and subagent variables per chain: the highest settings
    env block that sets one, else the process environment (env-vars "Precedence": the
    settings file value applies)."""
    for var in (*REMAP_VARS, SUBAGENT_VAR):
        unique: list[Source] = []
        for chain in chains:
            src = _settings_env(chain, var, "settings-env")
            if src is None and var in inp.env and inp.env[var].value.strip():
                src = inp.env[var]
            if src is not None and src not in unique:
                unique.append(src)
        if var == SUBAGENT_VAR:
            res.subagent = [s for s in unique if s.value.lower() != "inherit"]
        elif unique:
            res.remaps[var] = unique


def _subagents(res: Resolution, inp: Inputs, allow: Allowlist | None) -> None:
    """Front-matter models of the effective definitions (the first of each name), unless
    CLAUDE_CODE_SUBAGENT_MODEL overrides them all (sub-agents, "Choose a model"); a model
    availableModels blocks falls back to the inherited one."""
    if res.subagent:
        if inp.agents:
            res.notes.append(f"{SUBAGENT_VAR} overrides the front-matter model of every "
                             "subagent definition")
        return
    seen: set[str] = set()
    for a in inp.agents:
        if a.name in seen:
            continue
        seen.add(a.name)
        if not a.model or a.model.lower() == "inherit":
            continue
        if allow is not None and not permits(allow.entries, a.model):
            res.notes.append(f"{a.label} names {a.model!r}, which availableModels "
                             f"({allow.label}) blocks: it runs on the inherited model")
            continue
        res.subagent.append(Source("agent-def", f"{a.label} (model)", a.model))


def _fallback(res: Resolution, inp: Inputs, layers: list[Layer],
              allow: Allowlist | None) -> None:
    """--fallback-model beats fallbackModel, which the highest file that sets it supplies
    whole (settings-reference ``fallbackModel``); entries availableModels excludes are
    dropped; at most three distinct models."""
    entries: list[tuple[str, str]] = []
    if inp.fallback_flag is not None:
        entries = [(e.strip(), inp.fallback_label) for e in inp.fallback_flag if e.strip()]
    else:
        for la in layers:
            value = _string_at(layer_data(la), "fallbackModel")
            if isinstance(value, list):
                entries = [(e.strip(), la.label("/fallbackModel")) for e in value
                           if isinstance(e, str) and e.strip()]
                break
    kept: list[Source] = []
    for value, label in entries:
        if allow is not None and not permits(allow.entries, value):
            res.notes.append(f"fallback model {value!r} ({label}) is dropped: availableModels "
                             f"({allow.label}) excludes it")
            continue
        if value not in [k.value for k in kept] and len(kept) < 3:
            kept.append(Source("fallback", label, value))
    res.fallback = kept


def _alternative(res: Resolution, src: Source | None) -> None:
    if src and res.winner and src.value != res.winner.value and src not in res.alternatives:
        res.alternatives.append(src)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str


def judge(model: str, policy: dict[str, Any]) -> Verdict:
    """Judge one model name against ``expect.model`` (allow, deny, allow_aliases)."""
    allow = list(policy.get("allow") or [])
    deny = [d for d in policy.get("deny") or [] if d]
    low = model.lower()
    hit = next((d for d in deny if d.lower() in low), None)
    if hit is not None:
        return Verdict(False, f"{model!r} matches the deny-list entry {hit!r}")
    if model in allow:
        return Verdict(True, f"{model!r} is in the allow-list")
    if is_alias(model):
        if not policy.get("allow_aliases"):
            return Verdict(False, f"{model!r} is a floating alias (its model changes with "
                                  "Claude Code releases) and allow_aliases is false")
        families = _alias_families(model)
        if families and all(any(f in a.lower() for a in allow) for f in families):
            return Verdict(True, f"alias {model!r} names an allowed model family "
                                 "(allow_aliases is true)")
        return Verdict(False, f"alias {model!r} does not name a model family of the "
                              f"allow-list {allow}")
    return Verdict(False, f"{model!r} is not in the allow-list {allow}")


def _alias_families(alias: str) -> list[str]:
    base = alias.lower().removesuffix(ONE_M)
    if base == "opusplan":
        return ["opus", "sonnet"]
    return [base] if base in ("sonnet", "opus", "haiku", "fable") else []


def _pinning_vars(alias: str) -> list[str]:
    """The variables that decide what an alias runs (model-config): ``best`` is opus;
    ``default`` is the account's tier default, opus or sonnet, so either may apply."""
    base = alias.lower().removesuffix(ONE_M)
    if base == "best":
        return [FAMILY_VARS["opus"]]
    if base == "default":
        return [FAMILY_VARS["opus"], FAMILY_VARS["sonnet"]]
    return [FAMILY_VARS[f] for f in _alias_families(alias) if f in FAMILY_VARS]


@dataclass(frozen=True)
class Judged:
    """A verdict on one model a process may run. ``role``: winner, alternative (another
    reading), pinned (what an alias resolves to through a variable), subagent or
    fallback (a model of the fallback chain)."""

    source: Source
    verdict: Verdict
    role: str
    alias: str = ""

    def describe(self) -> str:
        if self.role == "winner":
            return self.verdict.reason
        if self.role == "pinned":
            return (f"{self.alias!r} resolves to {self.source.value!r} through "
                    f"{self.source.label}: {self.verdict.reason}")
        if self.role == "subagent":
            return f"subagents ({self.source.label}): {self.verdict.reason}"
        if self.role == "fallback":
            return f"fallback model ({self.source.label}): {self.verdict.reason}"
        return f"another reading ({self.source.label}): {self.verdict.reason}"


def _judged(src: Source, role: str, res: Resolution, policy: dict[str, Any]) -> list[Judged]:
    if is_alias(src.value):
        pins = [p for var in _pinning_vars(src.value) for p in res.remaps.get(var, [])]
        if pins:
            return [Judged(p, judge(p.value, policy), role if role in ("subagent", "fallback")
                           else "pinned", src.value) for p in pins]
    return [Judged(src, judge(src.value, policy), role)]


def judge_all(res: Resolution, policy: dict[str, Any]) -> list[Judged]:
    """The verdict on the winner, on every alternative reading, on what an alias resolves
    to through ``ANTHROPIC_DEFAULT_*_MODEL``, on the subagent models and on the fallback
    chain (a turn runs on it during an overload, so it is judged like the main model)."""
    out: list[Judged] = []
    if res.winner:
        out += _judged(res.winner, "winner", res, policy)
    for src in res.alternatives:
        out += _judged(src, "alternative", res, policy)
    for src in res.subagent:
        out += _judged(src, "subagent", res, policy)
    for src in res.fallback:
        out += _judged(src, "fallback", res, policy)
    return out


UNKNOWN_MODEL = "jada-checks-probe-unknown-model"  # no allow-list admits it


def _probe(model: str, managed: bool) -> SettingsFile:
    """Settings content standing in for a file that could not be read."""
    env = {v: model for v in (ENV_VAR, *REMAP_VARS, SUBAGENT_VAR, DEFAULT_VAR)}
    doc: dict[str, Any] = {"model": model, "env": env, "fallbackModel": [model]}
    if managed or model != UNKNOWN_MODEL:
        doc.update({"availableModels": [model], "enforceAvailableModels": True})
    return decode(json.dumps(doc).encode(), "(probe)")


def _swap(chain: list[Layer], old: Layer, new: Layer) -> list[Layer]:
    return [new if la == old else la for la in chain]


def _passes(inp: Inputs, policy: dict[str, Any]) -> bool:
    res = resolve(inp)
    return res.winner is not None and all(j.verdict.ok for j in judge_all(res, policy))


def verdicts(inp: Inputs, policy: dict[str, Any]) -> tuple[Resolution, list[Judged]]:
    """Resolve and judge. A file whose content is unknown (unreadable, too big) makes the
    answer unknown only when some content could change the verdict: the verdict without
    it is compared with the verdicts when it sets every model source to a disallowed
    model, and to an allowed one (availableModels too); a difference is *unresolved*."""
    res = resolve(inp)
    judged = judge_all(res, policy)
    if res.unresolved or not res.unknown:
        return res, judged
    base = res.winner is not None and all(j.verdict.ok for j in judged)
    allowed = [a for a in policy.get("allow") or [] if a]
    for layer in res.unknown:
        changes = False
        for model in [UNKNOWN_MODEL] + allowed[:1]:
            probe = Layer(layer.scope, _probe(model, layer.scope == "managed"), True,
                          layer.name, layer.suffix)
            other = replace(inp, layers=_swap(inp.layers, layer, probe),
                            readings=[Reading(r.question, _swap(r.layers, layer, probe))
                                      for r in inp.readings])
            changes = changes or _passes(other, policy) != base
        if changes:
            res.unresolved.append(f"{layer.title} cannot be read ({why_unknown(layer)}), and "
                                  f"what it could set would change the verdict{layer.suffix}")
        else:
            res.notes.append(f"{layer.title} cannot be read ({why_unknown(layer)}); nothing "
                             "it could set would change the verdict")
    return res, judged
