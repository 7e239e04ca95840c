"""jada_checks.facts.cfg_inputs: from gathered facts to the files and environment Claude
Code reads, for the unit's configuration and for each running process (pure, no host)."""

from __future__ import annotations

import json

import pytest

from jada_checks.facts.cfg_inputs import Facts, config_inputs, process_inputs
from jada_checks.model_resolution import judge_all, resolve
from jada_checks.parsers.cfg_facts import (
    AgentDir,
    Arg,
    ClaudeProcess,
    EnvAssignment,
    EnvFact,
    ExecFact,
    FileFact,
    FilesFact,
    GitRoot,
    ProcsFact,
    WrapperOp,
)
from jada_checks.parsers.settings import decode, missing

POLICY = {"allow": ["claude-sonnet-4-6"], "deny": ["haiku"], "allow_aliases": False}
SONNET = {"model": "claude-sonnet-4-6"}
HAIKU = {"model": "claude-haiku-4-5-20251001"}


def ff(path: str, doc: object | None, role: str = "x") -> FileFact:
    settings = missing(path) if doc is None else decode(json.dumps(doc).encode(), path)
    return FileFact(role, path, "ok" if doc is not None else "missing", None, "root", 0o644,
                    path, "root", 0o755, True, settings)


def project(d: str, local: object | None = None, proj: object | None = None) -> list[FileFact]:
    return [ff(f"{d.rstrip('/')}/.claude/settings.local.json", local),
            ff(f"{d.rstrip('/')}/.claude/settings.json", proj)]


def facts(files: list[FileFact], *, home: str = "/home/jada", workdir: str = "/srv/jada",
          user: str = "jada", dynamic: bool = False, env: list[EnvAssignment] = (),
          wrappers: list[WrapperOp] = (), args: list[Arg] = (),
          roots: dict[str, GitRoot] | None = None, procs: list[ClaudeProcess] = ()) -> Facts:
    roots = roots if roots is not None else {workdir: GitRoot(workdir, "", "none")}
    fs = FilesFact(home, home, workdir, dynamic, dict(roots),
                   [ff("/etc/claude-code/managed-settings.json", None, "managed")] + files,
                   no_agents(files, [workdir, *[p.cwd for p in procs]]))
    return Facts(fs, EnvFact(list(env)), ExecFact(list(args), list(wrappers)), user,
                 ProcsFact(len(procs), list(procs), dict(roots)) if procs else None)


def no_agents(files: list[FileFact], starts: list[str]) -> dict[str, AgentDir]:
    """Every subagent directory the probes would report, gathered and missing."""
    dirs = {"/etc/claude-code/.claude/agents"}
    dirs |= {f"{f.path.rsplit('/', 1)[0]}/agents" for f in files}
    for start in starts:
        d = start.rstrip("/")
        while d:
            dirs.add(f"{d}/.claude/agents")
            d = d.rsplit("/", 1)[0]
        dirs.add("/.claude/agents")
    return {d: AgentDir("x", d, "missing") for d in dirs}


def model(f: Facts) -> tuple[str | None, str]:
    res = resolve(config_inputs(f).inputs)
    assert not res.unresolved, res.unresolved
    return res.model, res.winner.label if res.winner else ""


def test_the_passwd_home_by_default():
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), *project("/srv/jada")])
    assert model(f) == ("claude-sonnet-4-6",
                        "user settings /home/jada/.claude/settings.json (/model)")


def test_environment_home_moves_the_user_settings():
    f = facts([ff("/home/jada/.claude/settings.json", SONNET),
               ff("/srv/h/.claude/settings.json", HAIKU), *project("/srv/jada")],
              env=[EnvAssignment("HOME", "/srv/h", "unit Environment=")])
    built = config_inputs(f)
    assert built.user_file == "/srv/h/.claude/settings.json"
    assert built.notes == ["user settings are /srv/h/.claude/settings.json "
                           "(HOME from unit Environment=)"]
    assert model(f)[1] == "user settings /srv/h/.claude/settings.json (/model)"


def test_a_manager_home_does_not_beat_the_home_systemd_sets_for_user():
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), *project("/srv/jada")],
              env=[EnvAssignment("HOME", "/elsewhere",
                                 "manager environment (systemctl show-environment)")])
    assert config_inputs(f).user_file == "/home/jada/.claude/settings.json"


@pytest.mark.parametrize("value, path", [
    ("/etc/jada/claude", "/etc/jada/claude/settings.json"),
    ("conf/", "/srv/jada/conf/settings.json"),
])
def test_claude_config_dir_holds_the_user_settings(value: str, path: str):
    f = facts([ff(path, HAIKU), *project("/srv/jada")],
              env=[EnvAssignment("HOME", "/srv/h", "unit Environment="),
                   EnvAssignment("CLAUDE_CONFIG_DIR", value, "unit Environment=")])
    assert config_inputs(f).user_file == path
    assert model(f) == ("claude-haiku-4-5-20251001", f"user settings {path} (/model)")


def test_a_dynamic_user_without_a_passwd_entry_gets_home_slash():
    f = facts([ff("/.claude/settings.json", SONNET), *project("/srv/jada")], home="",
              user="jada-agent", dynamic=True)
    assert config_inputs(f).user_file == "/.claude/settings.json"
    assert model(f)[0] == "claude-sonnet-4-6"


def test_no_home_at_all_is_unresolved_not_a_default():
    f = facts([*project("/srv/jada")], home="", user="")
    assert resolve(config_inputs(f).inputs).unresolved


@pytest.mark.parametrize("ops, winner", [
    ([WrapperOp("/usr/bin/env", "set", "ANTHROPIC_MODEL", "claude-haiku-4-5")],
     "ExecStart /usr/bin/env ANTHROPIC_MODEL"),
    ([WrapperOp("/bin/sh -c", "sh", "ANTHROPIC_MODEL", "'claude-haiku-4-5'")],
     "ExecStart /bin/sh -c ANTHROPIC_MODEL"),
])
def test_execstart_wrappers_set_the_environment_last(ops: list[WrapperOp], winner: str):
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), *project("/srv/jada")],
              env=[EnvAssignment("ANTHROPIC_MODEL", "claude-sonnet-4-6", "unit Environment=")],
              wrappers=ops)
    assert model(f) == ("claude-haiku-4-5", winner)


def test_wrappers_unset_and_clear():
    base = [ff("/home/jada/.claude/settings.json", SONNET), ff("/srv/h/.claude/settings.json",
                                                               HAIKU), *project("/srv/jada")]
    env = [EnvAssignment("ANTHROPIC_MODEL", "claude-haiku-4-5", "unit Environment="),
           EnvAssignment("HOME", "/srv/h", "unit Environment=")]
    unset = facts(base, env=env, wrappers=[
        WrapperOp("/usr/bin/env", "unset", "ANTHROPIC_MODEL", "")])
    assert model(unset) == ("claude-haiku-4-5-20251001",
                            "user settings /srv/h/.claude/settings.json (/model)")
    cleared = facts(base, env=env, wrappers=[WrapperOp("/usr/bin/env", "clear", "-", "")])
    assert model(cleared)[1] == "user settings /home/jada/.claude/settings.json (/model)"


@pytest.mark.parametrize("op", [
    WrapperOp("/bin/sh -c", "sh", "ANTHROPIC_MODEL", '"$M"'),
    WrapperOp("/usr/bin/env", "chdir", "-", "/tmp"),
    WrapperOp("/usr/bin/env", "opaque", "-", ""),
])
def test_wrappers_the_suite_cannot_follow_are_errors(op: WrapperOp):
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), *project("/srv/jada")],
              wrappers=[op])
    assert resolve(config_inputs(f).inputs).unresolved


def test_execstart_settings_file_is_a_layer():
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), ff("/etc/x.json", HAIKU),
               *project("/srv/jada")], args=[Arg("settings-file", "/etc/x.json", "/etc/x.json")])
    assert model(f)[1] == "ExecStart --settings /etc/x.json (/model)"


def test_an_ungathered_file_is_an_error():
    f = facts([*project("/srv/jada")],
              env=[EnvAssignment("HOME", "/srv/h", "unit Environment=")])
    res = resolve(config_inputs(f).inputs)
    assert res.unresolved == ["/srv/h/.claude/settings.json was not gathered on the target",
                              "the subagent directory /srv/h/.claude/agents was not gathered "
                              "on the target"]


# -- project settings below a git root -------------------------------------------------

def git_facts(local_at_root: object | None) -> Facts:
    root, wd = "/srv/repo", "/srv/repo/app"
    return facts([ff("/home/jada/.claude/settings.json", SONNET), *project(wd),
                  ff(f"{root}/.claude/settings.local.json", local_at_root),
                  ff(f"{root}/.claude/settings.json", {"model": "claude-opus-4-6"})],
                 workdir=wd, roots={wd: GitRoot(wd, root, "ok")})


def test_the_git_roots_local_settings_make_the_model_ambiguous():
    res = resolve(config_inputs(git_facts(HAIKU)).inputs)
    assert res.model == "claude-haiku-4-5-20251001"
    assert res.winner.label == "local settings /srv/repo/.claude/settings.local.json (/model)"
    assert len(res.ambiguities) == 1 and "#86187" in res.ambiguities[0] \
        and "#74023" in res.ambiguities[0]
    assert [s.value for s in res.alternatives] == ["claude-sonnet-4-6"]
    assert not all(j.verdict.ok for j in judge_all(res, POLICY))


def test_the_git_roots_shared_settings_apply_in_neither_reading():
    res = resolve(config_inputs(git_facts(None)).inputs)
    assert res.model == "claude-sonnet-4-6" and not res.ambiguities


def test_the_start_directorys_local_file_is_still_read_below_the_roots():
    """settings v2.1.240: Claude Code "still reads a file an earlier version left there
    alongside the root file; where both set the same key, the root's value applies"."""
    root, wd = "/srv/repo", "/srv/repo/app"
    f = facts([ff("/home/jada/.claude/settings.json", HAIKU), *project(wd, local=SONNET),
               ff(f"{root}/.claude/settings.local.json", {"permissions": {}})],
              workdir=wd, roots={wd: GitRoot(wd, root, "ok")})
    res = resolve(config_inputs(f).inputs)
    assert res.model == "claude-sonnet-4-6" and not res.ambiguities
    assert res.winner is not None and res.winner.label == \
        f"local settings {wd}/.claude/settings.local.json (/model)"


def test_a_git_root_at_the_home_directory_keeps_the_local_file_in_the_start_directory():
    home, wd = "/home/jada", "/home/jada/app"
    f = facts([ff(f"{home}/.claude/settings.json", SONNET), *project(wd),
               ff(f"{home}/.claude/settings.local.json", HAIKU)], home=home,
              workdir=wd, roots={wd: GitRoot(wd, home, "ok")})
    res = resolve(config_inputs(f).inputs)
    assert res.model == "claude-sonnet-4-6" and not res.ambiguities


def test_an_unsearchable_directory_hides_the_git_root():
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), *project("/srv/jada")],
              roots={"/srv/jada": GitRoot("/srv/jada", "", "unknown")})
    assert resolve(config_inputs(f).inputs).unresolved


# -- a running process ------------------------------------------------------------------

def proc(pid: int = 123, *, cwd: str = "/srv/jada", env: dict[str, str] | None = None,
         args: list[Arg] = ()) -> ClaudeProcess:
    return ClaudeProcess(pid, cwd, 990, "/home/jada", True,
                         {"HOME": "/home/jada"} if env is None else env, list(args))


def proc_model(f: Facts, p: ClaudeProcess) -> tuple[str | None, str]:
    res = resolve(process_inputs(f, p).inputs)
    assert not res.unresolved, res.unresolved
    return res.model, res.winner.label if res.winner else ""


def test_a_process_settings_flag_names_the_file_and_the_pid():
    p = proc(args=[Arg("settings-file", "/etc/x.json", "/etc/x.json")])
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), ff("/etc/x.json", HAIKU),
               *project("/srv/jada")], procs=[p])
    assert proc_model(f, p) == ("claude-haiku-4-5-20251001",
                                "--settings /etc/x.json (/model) of pid 123")


def test_a_process_reads_its_own_home_and_working_directory():
    p = proc(cwd="/work", env={"HOME": "/srv/h"})
    f = facts([ff("/home/jada/.claude/settings.json", SONNET),
               ff("/srv/h/.claude/settings.json", SONNET), *project("/srv/jada"),
               *project("/work", local=HAIKU)],
              roots={"/srv/jada": GitRoot("/srv/jada", "", "none"),
                     "/work": GitRoot("/work", "", "none")}, procs=[p])
    assert proc_model(f, p) == ("claude-haiku-4-5-20251001",
                                "local settings /work/.claude/settings.local.json (/model)")


def test_a_process_without_home_uses_its_uids_passwd_home():
    p = proc(env={})
    f = facts([ff("/home/jada/.claude/settings.json", SONNET), *project("/srv/jada")],
              procs=[p])
    assert process_inputs(f, p).user_file == "/home/jada/.claude/settings.json"


def test_a_process_pinning_variable_is_named():
    p = proc(env={"HOME": "/home/jada", "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-haiku-4-5"})
    f = facts([ff("/home/jada/.claude/settings.json", {"model": "sonnet"}),
               *project("/srv/jada")], procs=[p])
    res = resolve(process_inputs(f, p).inputs)
    bad = [j for j in judge_all(res, {**POLICY, "allow_aliases": True}) if not j.verdict.ok]
    assert bad and bad[0].source.label == \
        "ANTHROPIC_DEFAULT_SONNET_MODEL in the environment of pid 123"


# -- subagent definitions (issue 21 item 8) ----------------------------------------------

def _b(text: str) -> str:
    import base64
    return base64.b64encode(text.encode()).decode()


def test_agent_records_carry_only_name_model_and_key_names():
    from jada_checks.parsers.cfg_facts import parse_procs, yaml_scalar
    d = "/home/jada/.claude/agents"
    fm = _b('name: reviewer\ndescription:\nmodel: "x" # c')
    text = "\n".join([
        f"T\t{_b(d)}\t{_b(d + '/r.md')}\tok\t{fm}",
        f"T\t{_b(d)}\t{_b(d + '/doc.md')}\tnofm\t",
        f"G\tagents.user\t{_b(d)}\tok"])
    agents = parse_procs(text).agents[d]
    assert agents.role == "agents.user" and agents.state == "ok"
    assert agents.files[0].name == "reviewer" and agents.files[0].model == "x"
    assert agents.files[0].keys == ("name", "description", "model")
    assert yaml_scalar("'it''s'") == ("it's", "") and yaml_scalar("[a]")[0] is None


def agent_facts(dirs: dict[str, list[tuple[str, str]]], state: str = "ok",
                args: list[Arg] = ()) -> Facts:
    """A service whose user settings name agent 'reviewer'; ``dirs``: path -> (file, front
    matter lines)."""
    from jada_checks.parsers.cfg_facts import _agent_file
    f = facts([ff("/home/jada/.claude/settings.json", {**SONNET, "agent": "reviewer"}),
               *project("/srv/jada")], args=args)
    for path, files in dirs.items():
        d = AgentDir("x", path, state)
        for name, fm in files:
            d.files.append(_agent_file(["T", _b(path), _b(f"{path}/{name}"), "ok", _b(fm)])[1])
        f.agents[path] = d
    return f


def test_the_project_agent_beats_the_users_and_skipped_files_do_not_count():
    f = agent_facts({
        "/home/jada/.claude/agents": [("r.md", "name: reviewer\ndescription:\nmodel: m-user")],
        "/srv/jada/.claude/agents": [
            ("a.md", "name: reviewer\nmodel: no-description"),  # skipped: no description
            ("b.md", "name: my:reviewer\ndescription:\nmodel: colon"),  # skipped
            ("c.md", "name: reviewer\ndescription:\nmodel: claude-sonnet-4-6")]})
    res = resolve(config_inputs(f).inputs)
    assert not res.unresolved and res.model == "claude-sonnet-4-6"
    assert res.winner is not None and res.winner.label.startswith(
        "agent 'reviewer' in /srv/jada/.claude/agents/c.md (model)")


def test_an_unreadable_agents_directory_is_an_error():
    f = agent_facts({"/srv/jada/.claude/agents": []}, state="unreadable")
    res = resolve(config_inputs(f).inputs)
    assert "the subagent directory /srv/jada/.claude/agents cannot be listed by the checking " \
        "user; the models of its subagents are unknown" in res.unresolved


def test_execstart_agents_json_defines_subagents():
    spec = json.dumps({"reviewer": {"description": "d", "prompt": "p", "model": "claude-x"}})
    f = agent_facts({}, args=[Arg("agents-inline", _b(spec), "ok")])
    res = resolve(config_inputs(f).inputs)
    assert res.model == "claude-x" and res.winner is not None
    assert res.winner.label.startswith("agent 'reviewer' in ExecStart --agents (model)")
