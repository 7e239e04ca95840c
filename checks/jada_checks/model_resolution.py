"""Which model Claude Code really starts with: pure resolution from gathered facts.

Documented order, highest first (https://code.claude.com/docs/en/model-config, "Setting
your model"): ``--model`` at startup, then the ``ANTHROPIC_MODEL`` environment variable,
then the ``model`` key of the settings. Settings rank managed > command line
(``--settings FILE-or-JSON``) > local project > shared project > user
(https://code.claude.com/docs/en/settings, "Settings precedence"); managed settings are
``managed-settings.json`` with ``managed-settings.d/*.json`` merged on top in name order.
``--setting-sources`` selects which of user, project and local load (an empty list loads
none); managed and ``--settings`` always load. A settings file's ``env`` block also sets
``ANTHROPIC_MODEL`` (https://code.claude.com/docs/en/env-vars).

An alias (``sonnet``, ``opus``, ``haiku``, ``opusplan``, ``best``, ``default``) resolves to
the model ``ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL`` names when one is set
(model-config, "Environment variables"); the resolved model is what runs, so it is what
is judged. ``CLAUDE_CODE_SUBAGENT_MODEL`` is the model of every subagent.

Where the documentation leaves the order open, :func:`resolve` picks one reading, records
the question in ``Resolution.ambiguities`` and every model another reading would give in
``Resolution.alternatives``; callers judge all of them rather than guess. Nothing here
reads files or runs commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jada_checks.parsers.settings import SettingsFile

ENV_VAR = "ANTHROPIC_MODEL"
SUBAGENT_VAR = "CLAUDE_CODE_SUBAGENT_MODEL"
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


@dataclass(frozen=True)
class Source:
    """One place that sets a model. ``value`` is a model name: not a secret."""

    kind: str  # flag, settings-env, process-env, settings, alias-env, subagent, none
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


@dataclass
class Inputs:
    argv_models: list[str] = field(default_factory=list)  # --model values, in argv order
    argv_label: str = "ExecStart --model"
    process_env: Source | None = None  # ANTHROPIC_MODEL from the unit or /proc/PID/environ
    layers: list[Layer] = field(default_factory=list)  # highest precedence first
    setting_sources: set[str] | None = None  # from --setting-sources, if given
    sources_label: str = "--setting-sources"
    env: dict[str, Source] = field(default_factory=dict)  # REMAP_VARS, SUBAGENT_VAR
    readings: list[Reading] = field(default_factory=list)  # other possible file chains
    unresolved: list[str] = field(default_factory=list)  # known gaps from gathering


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


def _usable(layer: Layer, unresolved: list[str]) -> bool:
    if not layer.file.exists:
        return False
    if not layer.file.usable:
        first = layer.file.problems[0]
        unresolved.append(f"{layer.title} cannot be read as JSON ({first.message}); "
                          f"whether it sets a model is unknown{layer.suffix}")
        return False
    if layer.readable is False:
        unresolved.append(f"{layer.title} is not readable by the service user; how Claude "
                          "Code treats it is not documented")
        return False
    return True


def _settings_sources(layers: list[Layer], unresolved: list[str]) -> tuple[
        list[Source], list[Source]]:
    """Every settings ``model`` and ``env.ANTHROPIC_MODEL``, highest precedence first."""
    models: list[Source] = []
    envs: list[Source] = []
    for layer in layers:
        if not _usable(layer, unresolved):
            continue
        for keys, out, kind, ptr in (
                (("model",), models, "settings", "/model"),
                (("env", ENV_VAR), envs, "settings-env", f"/env/{ENV_VAR}")):
            value = _string_at(layer.file.data, *keys)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                unresolved.append(f"{layer.label(ptr)} is not a non-empty string")
                continue
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


def resolve(inp: Inputs, *, _explore: bool = True) -> Resolution:
    """Resolve the effective model; see the module docstring for the order used."""
    unresolved: list[str] = list(inp.unresolved)
    layers = _enabled(inp.layers, inp.setting_sources)
    models, envs = _settings_sources(layers, unresolved)
    flag = [Source("flag", inp.argv_label, m.strip()) for m in inp.argv_models if m.strip()]
    if len(flag) != len(inp.argv_models):
        unresolved.append(f"{inp.argv_label} has an empty value")
    # The documented reading: a flag beats the environment, the environment beats the
    # model key, and a settings file's env block is applied over the inherited environment
    # ("they take effect no matter how claude was launched", env-vars).
    ordered: list[Source] = list(reversed(flag))  # the last --model wins
    ordered += envs
    if inp.process_env:
        ordered.append(inp.process_env)
    ordered += models
    winner = ordered[0] if ordered else None
    res = Resolution(winner, ordered[1:], unresolved=unresolved,
                     notes=_excluded_notes(inp, inp.layers))
    if not _explore:
        return res
    chains = [layers] + [_enabled(r.layers, inp.setting_sources) for r in inp.readings]
    _env_sources(res, inp, chains)
    if winner is None:
        _readings(res, inp)
        return res
    _ambiguities(res, inp, models, envs)
    for i, layer in enumerate(inp.layers):
        if layer.file.has_bom and layer.file.usable:
            rest = inp.layers[:i] + inp.layers[i + 1:]
            other = resolve(_with_layers(inp, rest), _explore=False)
            res.ambiguities.append(
                f"{layer.title} starts with a byte-order mark; some Claude Code versions "
                "ignore the whole file")
            _alternative(res, other.winner or NO_MODEL)
    _readings(res, inp)
    return res


def _with_layers(inp: Inputs, layers: list[Layer]) -> Inputs:
    return Inputs(inp.argv_models, inp.argv_label, inp.process_env, layers,
                  inp.setting_sources, inp.sources_label, inp.env, [], [])


def _readings(res: Resolution, inp: Inputs) -> None:
    """Other file chains the documentation leaves possible: every one must be judged."""
    for reading in inp.readings:
        other = resolve(_with_layers(inp, reading.layers), _explore=False)
        res.unresolved += [u for u in other.unresolved if u not in res.unresolved]
        if other.winner is None and res.winner is None:
            continue
        if (other.winner or NO_MODEL).value != (res.winner or NO_MODEL).value:
            res.ambiguities.append(reading.question)
            if res.winner is None:
                res.winner, res.overridden = NO_MODEL, []
            _alternative(res, other.winner or NO_MODEL)


def _env_sources(res: Resolution, inp: Inputs, chains: list[list[Layer]]) -> None:
    """Values of the alias-pinning and subagent variables, from settings env blocks (the
    highest-precedence file that sets one, per chain) and from the process environment."""
    for var in (*REMAP_VARS, SUBAGENT_VAR):
        found: list[Source] = []
        for chain in chains:
            for layer in chain:
                if not layer.file.exists or not layer.file.usable:
                    continue
                value = _string_at(layer.file.data, "env", var)
                if isinstance(value, str) and value.strip():
                    found.append(Source("settings-env", layer.label(f"/env/{var}"),
                                        value.strip()))
                    break
        if var in inp.env and inp.env[var].value.strip():
            found.append(inp.env[var])
        unique: list[Source] = []
        for src in found:
            if src not in unique:
                unique.append(src)
        if var == SUBAGENT_VAR:
            res.subagent = [s for s in unique if s.value.lower() != "inherit"]
        elif unique:
            res.remaps[var] = unique
            if len({s.value for s in unique}) > 1:
                res.ambiguities.append(
                    f"{var} is set both in a settings env block and in the environment; "
                    f"the documentation ({DOC_ENV}) does not say which wins")


def _alternative(res: Resolution, src: Source | None) -> None:
    if src and res.winner and src.value != res.winner.value and src not in res.alternatives:
        res.alternatives.append(src)


def _ambiguities(res: Resolution, inp: Inputs, models: list[Source],
                 envs: list[Source]) -> None:
    """Record the readings the documentation leaves open, with the model each gives."""
    env = envs[0] if envs else None
    if env and inp.process_env and env.value != inp.process_env.value \
            and res.winner is not None and res.winner.kind != "flag":
        res.ambiguities.append(
            f"{ENV_VAR} is set both in a settings file's env block and in the process "
            f"environment; the documentation ({DOC_ENV}) does not say which wins")
        _alternative(res, inp.process_env)
    if env and models and res.winner is env and models[0].value != env.value:
        res.ambiguities.append(
            f"{ENV_VAR} in a settings env block and a 'model' key disagree; {DOC_ENV} says "
            "the variable wins, but anthropics/claude-code#69296 reports the key winning")
        _alternative(res, models[0])
    managed = next((m for m in models if m.label.startswith("managed ")), None)
    if managed and res.winner is not None and res.winner.kind != "settings" \
            and res.winner.value != managed.value:
        res.ambiguities.append(
            f"managed settings set 'model', which {DOC_SETTINGS} says nothing overrides, "
            f"while {DOC_MODEL} ranks --model and {ENV_VAR} above any settings file")
        _alternative(res, managed)


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
    reading), pinned (what an alias resolves to through a variable) or subagent."""

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
        return f"another reading ({self.source.label}): {self.verdict.reason}"


def _judged(src: Source, role: str, res: Resolution, policy: dict[str, Any]) -> list[Judged]:
    if is_alias(src.value):
        pins = [p for var in _pinning_vars(src.value) for p in res.remaps.get(var, [])]
        if pins:
            return [Judged(p, judge(p.value, policy), "pinned" if role != "subagent"
                           else "subagent", src.value) for p in pins]
    return [Judged(src, judge(src.value, policy), role)]


def judge_all(res: Resolution, policy: dict[str, Any]) -> list[Judged]:
    """The verdict on the winner, on every alternative reading, on what an alias resolves
    to through ``ANTHROPIC_DEFAULT_*_MODEL`` and on the subagent model."""
    out: list[Judged] = []
    if res.winner:
        out += _judged(res.winner, "winner", res, policy)
    for src in res.alternatives:
        out += _judged(src, "alternative", res, policy)
    for src in res.subagent:
        out += _judged(src, "subagent", res, policy)
    return out
