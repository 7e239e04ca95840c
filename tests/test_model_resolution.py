"""jada_checks.model_resolution: the effective model, its overridden sources and open questions."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jada_checks.model_resolution import (
    AgentDef,
    Inputs,
    Layer,
    Reading,
    Source,
    is_alias,
    judge,
    judge_all,
    managed_layers,
    parse_sources,
    permits,
    resolve,
    verdicts,
)
from jada_checks.parsers.settings import decode, missing, unusable

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


# -- issue 21 item 6: the precedence the documentation now states (v2.1.240) ---------------

def test_anthropic_model_in_an_env_block_beats_model_in_the_same_file():
    """env-vars "Precedence": ANTHROPIC_MODEL is read first, 'model' only when it is unset."""
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6",
                                            "env": {"ANTHROPIC_MODEL": "haiku"}})))
    assert res.model == "haiku" and res.winner is not None
    assert res.winner.label == f"user settings {USER} (/env/ANTHROPIC_MODEL)"
    assert not res.ambiguities and not res.alternatives
    assert [str(s) for s in res.overridden] == [
        f"user settings {USER} (/model) = 'claude-sonnet-4-6'"]


def test_a_settings_env_block_beats_the_process_environment():
    """env-vars "Precedence": "the settings file value applies"."""
    res = resolve(Inputs(process_env=env("claude-haiku-4-5"),
                         layers=chain(user={"env": {"ANTHROPIC_MODEL": "claude-sonnet-4-6"}})))
    assert res.model == "claude-sonnet-4-6" and not res.ambiguities and not res.alternatives
    assert all(j.verdict.ok for j in judge_all(res, POLICY))
    assert [s.label for s in res.overridden] == ["unit Environment= ANTHROPIC_MODEL"]


@pytest.mark.parametrize("flags, penv", [(["claude-sonnet-4-6"], None),
                                         ([], "claude-sonnet-4-6")])
def test_a_managed_model_is_a_default_not_a_lock(flags, penv):
    """settings-reference "model": --model and ANTHROPIC_MODEL take precedence "including
    over a managed model"; the lock is availableModels."""
    res = resolve(Inputs(flags, process_env=env(penv) if penv else None,
                         layers=chain(managed={"model": "claude-haiku-4-5"})))
    assert res.model == "claude-sonnet-4-6" and not res.ambiguities and not res.alternatives
    assert all(j.verdict.ok for j in judge_all(res, POLICY))
    assert str(res.overridden[-1]) == f"managed settings {MANAGED} (/model) = 'claude-haiku-4-5'"


def test_bom_file_gives_an_alternative_without_it():
    layers = chain(user={"model": "u"})
    layers[-2] = Layer("project", decode(b'\xef\xbb\xbf{"model": "p"}', PROJECT))
    res = resolve(Inputs(layers=layers))
    assert res.model == "p" and [s.value for s in res.alternatives] == ["u"]


# -- issue 21 item 7: a file Claude Code skips contributes nothing -------------------------

@pytest.mark.parametrize("raw", [b"{", b"", b"[1]", b'{"model": "\xff"}'])
def test_a_project_file_that_is_not_json_is_skipped(raw: bytes):
    """settings "Fix a broken settings file": Claude Code skips it and continues."""
    layers = chain(user={"model": "claude-sonnet-4-6"})
    layers[-2] = Layer("project", decode(raw, PROJECT))
    res, judged = verdicts(Inputs(layers=layers), POLICY)
    assert not res.unresolved and res.model == "claude-sonnet-4-6"
    assert all(j.verdict.ok for j in judged)
    assert any(n.startswith(f"project settings {PROJECT} is not valid JSON") and
               "Claude Code skips it, so it contributes nothing" in n for n in res.notes)


@pytest.mark.parametrize("name", ["managed-settings.json", "managed-settings.d/50-x.json"])
def test_a_managed_file_or_drop_in_that_is_not_json_contributes_nothing(name: str):
    """managed-settings "Find entries Claude Code dropped": "contributes no settings at all"."""
    path = f"/etc/claude-code/{name}"
    broken = Layer("managed", decode(b'{"model": "claude-haiku-4-5",', path))
    layers = [broken] + chain(user={"model": "claude-sonnet-4-6"})[1:]
    res, judged = verdicts(Inputs(layers=layers), POLICY)
    assert res.model == "claude-sonnet-4-6" and not res.unresolved
    assert all(j.verdict.ok for j in judged)
    assert any(n.startswith(f"managed settings {path} is not valid JSON") for n in res.notes)


def test_a_managed_value_the_schema_rejects_is_dropped_the_rest_kept():
    res = resolve(Inputs(layers=chain(managed={"model": 4, "availableModels": ["sonnet"]},
                                      user={"model": "claude-haiku-4-5"})))
    # the managed model is dropped; its availableModels still applies and blocks Haiku
    assert res.winner is not None and res.winner.kind == "available"
    assert res.model == "default" and not res.unresolved
    assert any("drops the keys the schema rejects (model)" in n for n in res.notes)


def test_a_schema_error_in_a_user_or_project_file_is_judged_both_ways():
    """-p: "skips the broken file or values": whole file and bad values, both judged."""
    bad_project = {"model": "claude-sonnet-4-6", "includeCoAuthoredBy": "yes"}
    res = resolve(Inputs(layers=chain(project=bad_project, user={"model": "claude-haiku-4-5"})))
    assert res.model == "claude-sonnet-4-6"
    assert [s.value for s in res.alternatives] == ["claude-haiku-4-5"]
    assert any(a.startswith(f"project settings {PROJECT} has values the schema rejects "
                            "(includeCoAuthoredBy)") for a in res.ambiguities)
    assert not all(j.verdict.ok for j in judge_all(res, POLICY))
    # both readings give an allowed model: a pass
    ok = resolve(Inputs(layers=chain(project=bad_project, user={"model": "claude-sonnet-4-6"})))
    assert not ok.ambiguities and all(j.verdict.ok for j in judge_all(ok, POLICY))


def test_a_bad_model_value_is_skipped_not_unresolved():
    res = resolve(Inputs(layers=chain(user={"model": 4})))
    assert res.winner is None and not res.unresolved


def test_an_unreadable_file_is_unknown_when_it_could_change_the_verdict():
    layers = chain(user={"model": "claude-sonnet-4-6"})
    layers[-1] = Layer("user", layers[-1].file, readable=False)
    res, _ = verdicts(Inputs(layers=layers), POLICY)
    assert res.unresolved == [
        f"user settings {USER} cannot be read (not readable by the service user, and how "
        "Claude Code treats that is not documented), and what it could set would change the "
        "verdict"]


def test_an_unreadable_file_that_cannot_change_the_verdict_leaves_it_known():
    """--model haiku fails whatever the user file says: the managed availableModels admits
    it and replaces any list of the user's; no file beats --model."""
    layers = chain(managed={"availableModels": ["haiku"]})
    layers[-1] = Layer("user", unusable(USER, "unreadable", "cannot be read by the checking "
                                                            "user"))
    res, judged = verdicts(Inputs(["claude-haiku-4-5"], layers=layers), POLICY)
    assert not res.unresolved and not all(j.verdict.ok for j in judged)
    assert f"user settings {USER} cannot be read (cannot be read by the checking user); " \
        "nothing it could set would change the verdict" in res.notes


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
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}),
                         readings=[Reading("q", chain(user={"model": "haiku"}))]))
    assert res.model == "claude-sonnet-4-6"
    assert not all(j.verdict.ok for j in judge_all(res, POLICY))


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
    res, judged = verdicts(Inputs(flags, process_env=env(penv) if penv is not None else None,
                                  layers=layers), POLICY)
    if res.winner is not None and all(j.verdict.ok for j in judged) and not res.unresolved:
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


def test_a_pinning_variable_in_a_settings_env_block_beats_the_process_environment():
    """env-vars "Precedence": the settings file value applies (was an ambiguity)."""
    res = resolve(Inputs(
        layers=chain(user={"model": "sonnet",
                           "env": {"ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-6"}}),
        env=pid_env("ANTHROPIC_DEFAULT_SONNET_MODEL", "claude-haiku-4-5")))
    assert not res.ambiguities
    values = {j.source.value: j.verdict.ok for j in judge_all(res, ALIASES)}
    assert values == {"claude-sonnet-4-6": True}


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


# -- issue 21 item 8: sources read since v2.1.240's documentation --------------------------

REVIEWER = AgentDef("reviewer", "claude-haiku-4-5",
                    "agent 'reviewer' in /home/jada/.claude/agents/reviewer.md")


def test_the_agent_setting_runs_the_main_thread_on_that_agents_model():
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6", "agent": "reviewer"}),
                         agents=[REVIEWER]))
    assert res.model == "claude-haiku-4-5" and res.winner is not None
    assert res.winner.label == ("agent 'reviewer' in /home/jada/.claude/agents/reviewer.md "
                                f"(model), the main thread's agent by user settings {USER} "
                                "(/agent)")
    assert not all(j.verdict.ok for j in judge_all(res, POLICY))


def test_the_agent_flag_beats_the_setting_and_an_unknown_agent_is_unresolved():
    sonnet = AgentDef("writer", "claude-sonnet-4-6", "agent 'writer' in --agents of pid 7")
    res = resolve(Inputs(layers=chain(user={"agent": "reviewer"}), agents=[REVIEWER, sonnet],
                         agent_flag="writer", agent_label="--agent of pid 7"))
    assert res.model == "claude-sonnet-4-6"
    missing_agent = resolve(Inputs(layers=chain(user={"agent": "ghost"}), agents=[REVIEWER]))
    assert missing_agent.unresolved and "'ghost'" in missing_agent.unresolved[0]


def test_model_flag_against_an_agents_model_is_judged_both_ways():
    res = resolve(Inputs(["claude-sonnet-4-6"], layers=chain(user={"agent": "reviewer"}),
                         agents=[REVIEWER]))
    assert res.model == "claude-haiku-4-5"
    assert [s.value for s in res.alternatives] == ["claude-sonnet-4-6"]
    assert any("is not documented" in a for a in res.ambiguities)


def test_subagent_front_matter_models_are_reported_like_the_subagent_variable():
    cli = AgentDef("reviewer", "claude-sonnet-4-6", "agent 'reviewer' in --agents of pid 7")
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}),
                         agents=[cli, REVIEWER, AgentDef("x", None, "agent 'x'")]))
    # the --agents definition outranks the user one of the same name: no Haiku
    assert [s.value for s in res.subagent] == ["claude-sonnet-4-6"]
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}), agents=[REVIEWER]))
    judged = [j for j in judge_all(res, POLICY) if j.role == "subagent"]
    assert judged[0].describe() == (
        "subagents (agent 'reviewer' in /home/jada/.claude/agents/reviewer.md (model)): "
        "'claude-haiku-4-5' matches the deny-list entry 'haiku'")
    # CLAUDE_CODE_SUBAGENT_MODEL overrides every front matter (sub-agents "Choose a model")
    over = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}), agents=[REVIEWER],
                          env=pid_env("CLAUDE_CODE_SUBAGENT_MODEL", "claude-sonnet-4-6")))
    assert all(j.verdict.ok for j in judge_all(over, POLICY))


@pytest.mark.parametrize("enforce, model", [(True, "claude-sonnet-4-6"), (False, "default")])
def test_available_models_replaces_a_blocked_model_at_start_up(enforce, model):
    managed = {"availableModels": ["claude-sonnet-4-6", "haiku"],
               "enforceAvailableModels": enforce}
    res = resolve(Inputs(layers=chain(managed=managed, user={"model": "claude-opus-4-6"})))
    assert res.model == model and res.winner is not None and res.winner.kind == "available"
    assert res.winner.label.startswith(f"managed settings {MANAGED} (/availableModels), which "
                                       "blocks 'claude-opus-4-6' from user settings")
    assert all(j.verdict.ok for j in judge_all(res, POLICY)) is enforce


def test_available_models_matching():
    assert permits(["sonnet"], "claude-sonnet-4-6") and permits(["sonnet"], "sonnet[1m]")
    assert not permits(["sonnet", "claude-sonnet-4-5"], "claude-sonnet-4-6")
    assert permits(["claude-sonnet-4-5"], "claude-sonnet-4-5-20250929")
    assert not permits(["haiku"], "claude-opus-4-6") and permits([], "default")
    assert not permits([], "claude-sonnet-4-6")


def test_a_managed_list_replaces_the_users_and_enforce_is_read_from_managed_only():
    res = resolve(Inputs(layers=chain(managed={"availableModels": ["claude-sonnet-4-6"]},
                                      user={"model": "claude-haiku-4-5",
                                            "availableModels": ["haiku"],
                                            "enforceAvailableModels": True})))
    assert res.model == "default"  # blocked; no managed enforce, so the account default


def test_anthropic_default_model_applies_only_when_nothing_selects_a_model():
    res = resolve(Inputs(layers=chain(), env=pid_env("ANTHROPIC_DEFAULT_MODEL",
                                                     "claude-sonnet-4-6")))
    assert res.model == "claude-sonnet-4-6" and res.winner is not None
    assert res.winner.label == "ANTHROPIC_DEFAULT_MODEL in the environment of pid 123"
    set_model = resolve(Inputs(layers=chain(user={"model": "claude-haiku-4-5"}),
                               env=pid_env("ANTHROPIC_DEFAULT_MODEL", "claude-sonnet-4-6")))
    assert set_model.model == "claude-haiku-4-5"
    ignored = resolve(Inputs(layers=chain(), env=pid_env("ANTHROPIC_DEFAULT_MODEL", "haiku")))
    assert ignored.winner is None and "Claude Code ignores the value 'haiku'" in ignored.notes[0]


def test_fallback_models_are_reported_and_judged_against_the_allow_list():
    res = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6",
                                            "fallbackModel": ["claude-haiku-4-5"]},
                                      project={"fallbackModel": ["claude-sonnet-4-6"]})))
    assert [s.value for s in res.fallback] == ["claude-sonnet-4-6"]  # the highest file, whole
    flag_ = resolve(Inputs(layers=chain(user={"model": "claude-sonnet-4-6"}),
                           fallback_flag=["sonnet", "claude-haiku-4-5"],
                           fallback_label="--fallback-model of pid 7"))
    judged = [j for j in judge_all(flag_, POLICY) if j.role == "fallback"]
    assert [j.verdict.ok for j in judged] == [False, False]
    assert judged[1].describe() == ("fallback model (--fallback-model of pid 7): "
                                    "'claude-haiku-4-5' matches the deny-list entry 'haiku'")
    dropped = resolve(Inputs(layers=chain(managed={"availableModels": ["sonnet"]},
                                          user={"model": "claude-sonnet-4-6",
                                                "fallbackModel": ["claude-haiku-4-5"]})))
    assert not dropped.fallback and "is dropped: availableModels" in dropped.notes[-1]
