"""Which model Claude Code really starts with: pure resolution from gathered facts.

Documented order, highest first (https://code.claude.com/docs/en/model-config, "Setting
your model"): ``--model`` at startup, then the ``ANTHROPIC_MODEL`` environment variable,
then the ``model`` key of the settings files. Settings files rank managed > local project
> shared project > user (https://code.claude.com/docs/en/settings, "Settings precedence");
managed settings are ``managed-settings.json`` with ``managed-settings.d/*.json`` merged on
top in name order. A settings file's ``env`` block also sets ``ANTHROPIC_MODEL``
(https://code.claude.com/docs/en/env-vars).

Where the documentation leaves the order open, :func:`resolve` picks the documented
reading, records the question in ``Resolution.ambiguities`` and every model another
reading would give in ``Resolution.alternatives``; callers judge all of them rather than
guess. Nothing here reads files or runs commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jada_checks.parsers.settings import SettingsFile

ENV_VAR = "ANTHROPIC_MODEL"
SCOPES = ("managed", "local", "project", "user")  # highest precedence first
# Documented aliases (model-config, "Model aliases"); ``[1m]`` selects the 1M context.
# fable appears as an alias in the settings reference (advisorModel); treated as floating.
ALIAS = re.compile(r"^(default|best|sonnet|opus|haiku|opusplan|fable)(\[1m\])?$", re.I)
ONE_M = "[1m]"

DOC_MODEL = "https://code.claude.com/docs/en/model-config"
DOC_SETTINGS = "https://code.claude.com/docs/en/settings"
DOC_ENV = "https://code.claude.com/docs/en/env-vars"


@dataclass(frozen=True)
class Source:
    """One place that sets a model. ``value`` is a model name: not a secret."""

    kind: str  # flag, settings-env, process-env, settings
    label: str
    value: str

    def __str__(self) -> str:
        return f"{self.label} = {self.value!r}"


# The reading in which nothing sets a model: Claude Code's account-dependent default.
NO_MODEL = Source("none", "no source (Claude Code's account-dependent default)", "default")


@dataclass(frozen=True)
class Layer:
    """A settings file in the chain; ``readable`` is whether the service user can read it."""

    scope: str
    file: SettingsFile
    readable: bool | None = None

    @property
    def path(self) -> str:
        return self.file.path


@dataclass
class Inputs:
    argv_models: list[str] = field(default_factory=list)  # --model values, in argv order
    argv_label: str = "ExecStart --model"
    process_env: Source | None = None  # ANTHROPIC_MODEL from the unit or /proc/PID/environ
    layers: list[Layer] = field(default_factory=list)  # highest precedence first
    setting_sources: set[str] | None = None  # from --setting-sources, if given
    settings_flag: bool = False  # --settings given: its content is not inspected
    config_dir: bool = False  # CLAUDE_CONFIG_DIR set: user settings live elsewhere


@dataclass
class Resolution:
    winner: Source | None
    overridden: list[Source]
    ambiguities: list[str] = field(default_factory=list)
    alternatives: list[Source] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # why the answer is unknown

    @property
    def model(self) -> str | None:
        return self.winner.value if self.winner else None


def is_alias(model: str) -> bool:
    return bool(ALIAS.match(model.strip()))


def managed_layers(base: SettingsFile, dropins: list[SettingsFile]) -> list[Layer]:
    """Managed files highest precedence first: drop-ins later in name order win."""
    ordered = sorted(dropins, key=lambda f: f.path.rsplit("/", 1)[-1])
    return [Layer("managed", f) for f in reversed(ordered)] + [Layer("managed", base)]


def _string_at(data: dict[str, Any] | None, *keys: str) -> Any:
    cur: Any = data
    for key in keys:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return cur


def _label(layer: Layer, pointer: str) -> str:
    return f"{layer.scope} settings {layer.path} ({pointer})"


def _settings_sources(layers: list[Layer], unresolved: list[str]) -> tuple[
        list[Source], list[Source]]:
    """Every settings ``model`` and ``env.ANTHROPIC_MODEL``, highest precedence first."""
    models, envs = [], []
    for layer in layers:
        if not layer.file.exists:
            continue
        if not layer.file.usable:
            first = layer.file.problems[0]
            unresolved.append(f"{layer.scope} settings {layer.path} cannot be read as JSON "
                              f"({first.message}); whether it sets a model is unknown")
            continue
        if layer.readable is False:
            unresolved.append(f"{layer.scope} settings {layer.path} is not readable by the "
                              "service user; how Claude Code treats it is not documented")
            continue
        for keys, out, kind, ptr in (
                (("model",), models, "settings", "/model"),
                (("env", ENV_VAR), envs, "settings-env", f"/env/{ENV_VAR}")):
            value = _string_at(layer.file.data, *keys)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                unresolved.append(f"{_label(layer, ptr)} is not a non-empty string")
                continue
            out.append(Source(kind, _label(layer, ptr), value.strip()))
    return models, envs


def _enabled(layers: list[Layer], sources: set[str] | None) -> list[Layer]:
    if sources is None:
        return layers
    return [la for la in layers if la.scope == "managed" or la.scope in sources]


def resolve(inp: Inputs, *, _explore: bool = True) -> Resolution:
    """Resolve the effective model; see the module docstring for the order used."""
    unresolved: list[str] = []
    if inp.settings_flag:
        unresolved.append("the command line passes --settings, whose content is not "
                          "inspected (it ranks above every file but managed settings)")
    if inp.config_dir:
        unresolved.append("CLAUDE_CONFIG_DIR is set in the unit environment, so user "
                          "settings are not in ~/.claude; not supported")
    layers = _enabled(inp.layers, inp.setting_sources)
    models, envs = _settings_sources(layers, unresolved)
    flag = [Source("flag", inp.argv_label, m.strip()) for m in inp.argv_models if m.strip()]
    bad_flag = len(flag) != len(inp.argv_models)
    if bad_flag:
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
    res = Resolution(winner, ordered[1:], unresolved=unresolved)
    if winner is None or not _explore:
        return res
    _ambiguities(res, inp, models, envs)
    for i, layer in enumerate(inp.layers):
        if layer.file.has_bom and layer.file.usable:
            rest = inp.layers[:i] + inp.layers[i + 1:]
            other = resolve(Inputs(inp.argv_models, inp.argv_label, inp.process_env, rest,
                                   inp.setting_sources, inp.settings_flag, inp.config_dir),
                            _explore=False)
            res.ambiguities.append(
                f"{layer.scope} settings {layer.path} starts with a byte-order mark; "
                "some Claude Code versions ignore the whole file")
            _alternative(res, other.winner or NO_MODEL)
    return res


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


def judge_all(res: Resolution, policy: dict[str, Any]) -> list[tuple[Source, Verdict]]:
    """The verdict on the winner and on every alternative reading."""
    out = []
    for src in ([res.winner] if res.winner else []) + res.alternatives:
        out.append((src, judge(src.value, policy)))
    return out
