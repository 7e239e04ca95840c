"""jada_checks.model_resolution: the effective model, its overridden sources and open questions."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jada_checks.model_resolution import (
    Inputs,
    Layer,
    Reading,
    Source,
    is_alias,
    judge,
    judge_all,
    managed_layers,
    parse_sources,
    resolve,
)
from jada_checks.parsers.settings import decode, missing

POLICY = {"allow": ["claude-sonnet-4-6"], "deny": ["haiku"], "allow_aliases": False}
USER = "/home/jada/.claude/settings.json"
PROJECT = "/srv/jada/.claude/settings.json"
LOCAL = "/srv/jada/.claude/settings.local.json"
MANAGED = "/etc/claude-code/managed-settings.json"


def f(path: str, doc: object | None) -> Layer:
    scope = {USER: "user", PROJECT: "project", LOCAL: "local"}.get(path, "managed")
    if doc is None:
        return Layer(scope, missing(path))
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return Layer(scope, decode(raw, path))


def chain(user=None, project=None, local=None, managed=None, dropins=()) -> list[Layer]:
    base = f(MANAGED, managed).file
    drop = [decode(json.dumps(d).encode(), f"/etc/claude-code/managed-settings.d/{n}")
            for n, d in dropins]
    return managed_layers(base, drop) + [f(LOCAL, local), f(PROJECT, project), f(USER, user)]


def env(value: str) -> Source:
    return Source("process-env", "unit Environment= ANTHROPIC_MODEL", value)


def test_user_settings_alone():
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"})))
    assert res.model == "claude-sonnet-4-6" and res.winner is not None
    assert res.winner.label == f"user settings {USER} (/model)"
    assert not res.overridden and not res.ambiguities and not res.unresolved


def test_full_precedence_flag_env_managed_local_project_user():
    layers = chain(user={"model": "u"}, project={"model": "p"}, local={"model": "l"},
                   managed={"model": "m"})
    res = resolve(Inputs(["f1", "f2"], process_env=env("e"), layers=layers))
    assert res.model == "f2"  # the last --model wins
    assert [s.value for s in res.overridden] == ["f1", "e", "m", "l", "p", "u"]
    assert resolve(Inputs(process_env=env("e"), layers=layers)).model == "e"
    assert resolve(Inputs(layers=layers)).model == "m"
    assert resolve(Inputs(layers=chain(user={"model": "u"}, project={"model": "p"},
                                       local={"model": "l"}))).model == "l"
    assert resolve(Inputs(layers=chain(user={"model": "u"}, project={"model": "p"}))).model \
        == "p"


def test_managed_dropins_merge_in_name_order():
    layers = chain(managed={"model": "base"}, dropins=[("90-z.json", {"model": "z"}),
                                                       ("10-a.json", {"model": "a"})])
    res = resolve(Inputs(layers=layers))
    assert res.model == "z" and "managed-settings.d/90-z.json" in res.winner.label
    assert [s.value for s in res.overridden] == ["a", "base"]


def test_setting_sources_excludes_project_but_never_managed():
    layers = chain(user={"model": "u"}, project={"model": "p"}, managed=None)
    assert resolve(Inputs(layers=layers, setting_sources={"user"})).model == "u"


def test_settings_env_block_is_ambiguous_against_model_key():
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6",
                                            "env": {"ANTHROPIC_MODEL": "haiku"}})))
    assert res.model == "haiku"
    assert res.ambiguities and "69296" in res.ambiguities[0]
    assert [s.value for s in res.alternatives] == ["claude-sonnet-4-6"]


def test_settings_env_against_process_env_is_ambiguous():
    res = resolve(Inputs(process_env=env("e"),
                         layers=chain(user={"env": {"ANTHROPIC_MODEL": "s"}})))
    assert res.model == "s" and [s.value for s in res.alternatives] == ["e"]


def test_managed_model_overridden_by_env_is_ambiguous():
    res = resolve(Inputs(process_env=env("e"), layers=chain(managed={"model": "m"})))
    assert res.model == "e" and any("managed" in a for a in res.ambiguities)
    assert [s.value for s in res.alternatives] == ["m"]


def test_bom_file_gives_an_alternative_without_it():
    layers = chain(user={"model": "u"})
    layers[-2] = Layer("project", decode(b'\xef\xbb\xbf{"model": "p"}', PROJECT))
    res = resolve(Inputs(layers=layers))
    assert res.model == "p" and [s.value for s in res.alternatives] == ["u"]


@pytest.mark.parametrize("raw", [b"{", b"", b"[1]", b'{"model": "\xff"}'])
def test_unparseable_file_in_chain_is_unresolved(raw: bytes):
    layers = chain(user={"model": "claude-sonnet-4-6"})
    layers[-2] = Layer("project", decode(raw, PROJECT))
    res = resolve(Inputs(layers=layers))
    assert res.unresolved and PROJECT in res.unresolved[0]


def test_non_string_model_is_unresolved():
    assert resolve(Inputs(layers=chain(user={"model": 4}))).unresolved


def test_unreadable_by_service_user_is_unresolved():
    layers = chain(user={"model": "claude-sonnet-4-6"})
    layers[-1] = Layer("user", layers[-1].file, readable=False)
    assert resolve(Inputs(layers=layers)).unresolved


def test_gathering_gaps_are_unresolved():
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}),
                         unresolved=["/etc/x.json was not gathered on the target"]))
    assert res.unresolved == ["/etc/x.json was not gathered on the target"]


def test_nothing_set():
    res = resolve(Inputs(layers=chain()))
    assert res.winner is None and res.model is None


@pytest.mark.parametrize("name, alias", [
    ("sonnet", True), ("opus", True), ("haiku", True), ("opusplan", True), ("default", True),
    ("best", True), ("sonnet[1m]", True), ("opus[1m]", True), ("Sonnet", True),
    ("claude-sonnet-4-6", False), ("claude-sonnet-4-6[1m]", False), ("sonnet-4", False),
])
def test_alias_detection(name: str, alias: bool):
    assert is_alias(name) is alias


@pytest.mark.parametrize("model, policy, ok", [
    ("claude-sonnet-4-6", POLICY, True),
    ("claude-haiku-4-5-20251001", POLICY, False),
    ("claude-opus-4-6", POLICY, False),
    ("claude-sonnet-4-6[1m]", POLICY, False),
    ("sonnet", POLICY, False),
    ("sonnet", {**POLICY, "allow_aliases": True}, True),
    ("opus", {**POLICY, "allow_aliases": True}, False),
    ("opusplan", {**POLICY, "allow_aliases": True}, False),
    ("haiku", {**POLICY, "allow_aliases": True, "allow": ["claude-haiku-4-5"]}, False),
    ("default", {**POLICY, "allow_aliases": True}, False),
    ("default", {**POLICY, "allow_aliases": True, "allow": ["default"]}, True),
    ("CLAUDE-HAIKU", {**POLICY, "allow": ["CLAUDE-HAIKU"]}, False),
])
def test_judge(model: str, policy: dict, ok: bool):
    assert judge(model, policy).ok is ok


def test_judge_all_fails_if_any_reading_fails():
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6",
                                            "env": {"ANTHROPIC_MODEL": "claude-sonnet-4-6"}},
                                      managed={"model": "haiku"})))
    verdicts = judge_all(res, POLICY)
    assert res.model == "claude-sonnet-4-6" and not all(j.verdict.ok for j in verdicts)


# -- properties ---------------------------------------------------------------------------

models = st.sampled_from(["claude-sonnet-4-6", "haiku", "opus", "claude-opus-4-6", "", " ",
                          "sonnet[1m]", "claude-haiku-4-5-20251001"])
docs = st.one_of(st.none(), st.binary(max_size=40),
                 st.fixed_dictionaries({}, optional={
                     "model": st.one_of(models, st.integers(), st.none()),
                     "env": st.one_of(st.fixed_dictionaries(
                         {}, optional={"ANTHROPIC_MODEL": st.one_of(models, st.integers())}),
                         st.text(max_size=3))}))


def layer_of(path: str, doc: object) -> Layer:
    scope = {USER: "user", PROJECT: "project", LOCAL: "local"}.get(path, "managed")
    if doc is None:
        return Layer(scope, missing(path))
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return Layer(scope, decode(raw, path))


@settings(max_examples=400, deadline=None)
@given(user=docs, project=docs, local=docs, managed=docs,
       flags=st.lists(models, max_size=2), penv=st.one_of(st.none(), models))
def test_resolution_never_raises_and_never_passes_garbage(user, project, local, managed,
                                                          flags, penv):
    layers = [layer_of(MANAGED, managed), layer_of(LOCAL, local),
              layer_of(PROJECT, project), layer_of(USER, user)]
    res = resolve(Inputs(flags, process_env=env(penv) if penv is not None else None,
                         layers=layers))
    usable = all(la.file.usable or not la.file.exists for la in layers)
    if not usable:
        assert res.unresolved  # a file we cannot read is never treated as harmless
    verdicts = judge_all(res, POLICY)
    if res.winner is not None and all(j.verdict.ok for j in verdicts) and not res.unresolved:
        assert res.model == "claude-sonnet-4-6"
        assert all(s.value == "claude-sonnet-4-6" for s in res.alternatives)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.booleans())
def test_judge_never_passes_outside_allow_or_alias(model: str, aliases: bool):
    v = judge(model, {**POLICY, "allow_aliases": aliases})
    if v.ok:
        assert model == "claude-sonnet-4-6" or (aliases and model.lower().startswith("sonnet"))


def test_bom_file_that_alone_sets_the_model_fails_the_other_reading():
    res = resolve(Inputs(layers=chain(user=b'\xef\xbb\xbf{"model": "claude-sonnet-4-6"}')))
    assert res.model == "claude-sonnet-4-6" and [s.kind for s in res.alternatives] == ["none"]
    assert not all(j.verdict.ok for j in judge_all(res, POLICY))


# -- --settings, --setting-sources, alias pinning, subagents, project readings -------------

FLAG = "/etc/x.json"
ALIASES = {**POLICY, "allow_aliases": True}


def flag(doc: object, pid: int = 123) -> Layer:
    return Layer("flag", decode(json.dumps(doc).encode(), FLAG), name=f"--settings {FLAG}",
                 suffix=f" of pid {pid}")


def with_flag(layers: list[Layer], layer: Layer) -> list[Layer]:
    i = next(k for k, la in enumerate(layers) if la.scope != "managed")
    return layers[:i] + [layer] + layers[i:]


def test_settings_flag_ranks_between_managed_and_local():
    layers = with_flag(chain(user={"model": "claude-sonnet-4-6"},
                             local={"model": "l"}), flag({"model": "claude-haiku-4-5"}))
    res = resolve(Inputs(layers=layers))
    assert res.model == "claude-haiku-4-5"
    assert res.winner is not None and res.winner.label == f"--settings {FLAG} (/model) of pid 123"
    assert [s.value for s in res.overridden] == ["l", "claude-sonnet-4-6"]
    managed = with_flag(chain(managed={"model": "m"}), flag({"model": "f"}))
    assert resolve(Inputs(layers=managed)).model == "m"


def test_settings_flag_loads_whatever_setting_sources_say():
    layers = with_flag(chain(user={"model": "u"}), flag({"model": "f"}))
    assert resolve(Inputs(layers=layers, setting_sources=set())).model == "f"


def test_empty_setting_sources_loads_no_user_model():
    sources, unknown = parse_sources("")
    assert sources == set() and not unknown
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}),
                         setting_sources=sources, sources_label="--setting-sources '' of pid 7"))
    assert res.winner is None
    assert res.notes == [f"user settings {USER} (/model) = 'claude-sonnet-4-6' is not loaded "
                         "(--setting-sources '' of pid 7 loads none of user, project, local)"]


def test_setting_sources_parsing():
    assert parse_sources("user, project") == ({"user", "project"}, [])
    assert parse_sources("user,global") == ({"user"}, ["global"])


def pid_env(var: str, value: str, pid: int = 123) -> dict[str, Source]:
    return {var: Source("process-env", f"{var} in the environment of pid {pid}", value)}


def test_alias_pinned_to_a_denied_model_fails_and_names_the_variable():
    res = resolve(Inputs(layers=chain(user={"model": "sonnet"}),
                         env=pid_env("ANTHROPIC_DEFAULT_SONNET_MODEL", "claude-haiku-4-5")))
    assert res.model == "sonnet"
    judged = judge_all(res, ALIASES)
    assert [j.role for j in judged] == ["pinned"] and not judged[0].verdict.ok
    assert judged[0].describe() == (
        "'sonnet' resolves to 'claude-haiku-4-5' through ANTHROPIC_DEFAULT_SONNET_MODEL in "
        "the environment of pid 123: 'claude-haiku-4-5' matches the deny-list entry 'haiku'")
    # without the variable the same alias passes under allow_aliases
    plain = resolve(Inputs(layers=chain(user={"model": "sonnet"})))
    assert all(j.verdict.ok for j in judge_all(plain, ALIASES))


def test_a_pinned_alias_is_judged_as_its_pinned_model():
    res = resolve(Inputs(layers=chain(user={"model": "sonnet"}),
                         env=pid_env("ANTHROPIC_DEFAULT_SONNET_MODEL", "claude-sonnet-4-6")))
    assert all(j.verdict.ok for j in judge_all(res, POLICY))  # pinned: no floating alias


@pytest.mark.parametrize("alias, var", [
    ("opus", "ANTHROPIC_DEFAULT_OPUS_MODEL"), ("best", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
    ("haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL"), ("sonnet[1m]", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
    ("opusplan", "ANTHROPIC_DEFAULT_SONNET_MODEL"), ("opusplan", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
    ("default", "ANTHROPIC_DEFAULT_OPUS_MODEL"), ("default", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
])
def test_every_alias_follows_its_pinning_variable(alias: str, var: str):
    res = resolve(Inputs([alias], layers=chain(), env=pid_env(var, "claude-haiku-4-5")))
    assert any(j.role == "pinned" and not j.verdict.ok for j in judge_all(res, ALIASES))


def test_pinning_variable_in_settings_env_and_process_env_both_judged():
    res = resolve(Inputs(
        layers=chain(user={"model": "sonnet",
                           "env": {"ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-6"}}),
        env=pid_env("ANTHROPIC_DEFAULT_SONNET_MODEL", "claude-haiku-4-5")))
    assert any("ANTHROPIC_DEFAULT_SONNET_MODEL is set both" in a for a in res.ambiguities)
    values = {j.source.value: j.verdict.ok for j in judge_all(res, ALIASES)}
    assert values == {"claude-sonnet-4-6": True, "claude-haiku-4-5": False}


def test_subagent_model_is_reported_and_judged():
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}),
                         env=pid_env("CLAUDE_CODE_SUBAGENT_MODEL", "claude-haiku-4-5")))
    judged = judge_all(res, POLICY)
    assert [j.role for j in judged] == ["winner", "subagent"] and not judged[1].verdict.ok
    assert judged[1].describe().startswith(
        "subagents (CLAUDE_CODE_SUBAGENT_MODEL in the environment of pid 123): ")
    inherit = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}),
                             env=pid_env("CLAUDE_CODE_SUBAGENT_MODEL", "inherit")))
    assert not inherit.subagent


def test_another_project_reading_is_an_ambiguity_that_must_pass_too():
    root_local = Layer("local", decode(b'{"model": "claude-haiku-4-5"}',
                                       "/srv/.claude/settings.local.json"))
    cwd_chain = chain(user={"model": "claude-sonnet-4-6"})
    main = [la if la.scope != "local" else root_local for la in cwd_chain]
    res = resolve(Inputs(layers=main, readings=[Reading("git root question", cwd_chain)]))
    assert res.model == "claude-haiku-4-5"
    assert res.ambiguities == ["git root question"]
    assert [s.value for s in res.alternatives] == ["claude-sonnet-4-6"]
    # the same files in both readings: no question raised
    same = resolve(Inputs(layers=cwd_chain, readings=[Reading("q", cwd_chain)]))
    assert not same.ambiguities and not same.alternatives


def test_a_reading_without_any_model_fails_the_policy():
    res = resolve(Inputs(layers=chain(), readings=[Reading(
        "q", [Layer("local", decode(b'{"model": "claude-sonnet-4-6"}', LOCAL))])]))
    assert res.winner is not None and res.winner.kind == "none"
    assert not all(j.verdict.ok for j in judge_all(res, POLICY))
