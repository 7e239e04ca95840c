"""JADA-CFG against real sandbox hosts: each cfg-* host changes one thing of ``compliant``.

Runs the suite as a user would (``sandbox.run_suite``) restricted to the CFG controls, and
checks outcomes, that the message names the winning source, and that no canary secret
planted in ``cfg-canary``'s settings, unit, agents' environment or argv ever appears in
any output. The cfg-proc-* hosts start an agent with its own arguments or environment
(agent.py --children-file): CFG-03 must read each process, not the unit.
"""

from __future__ import annotations

import json

import pytest

CANARY_HOST = "cfg-canary"
CANARIES = ("CANARY-HELPER-7f3a9c", "CANARY-APIKEY-5d21e8b4", "CANARY-ENVNOTE-91c0aa",
            "CANARY-HOOK-2b7e61", "CANARY-PROCENV-3f9a27", "CANARY_NAME_b81d4c",
            "CANARY-ARGV-6e2d90", "CANARY-INLINE-c40e5a")
CFG = [f"JADA-CFG-0{i}" for i in range(1, 6)]
USER = "/home/jada/.claude/settings.json"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.sandbox_hosts("compliant", "drifted", "cfg-*"),
]

# host -> (control, outcome, text the message must contain)
FAULTS = {
    "cfg-user-haiku": ("JADA-CFG-02", "fail", f"from user settings {USER} (/model)"),
    "cfg-unit-env": ("JADA-CFG-02", "fail", "from unit Environment= ANTHROPIC_MODEL"),
    "cfg-managed": ("JADA-CFG-02", "fail",
                    "from managed settings /etc/claude-code/managed-settings.json (/model)"),
    "cfg-project": ("JADA-CFG-02", "fail",
                    "from project settings /srv/jada/.claude/settings.json (/model)"),
    "cfg-flag": ("JADA-CFG-02", "fail", "from ExecStart --model"),
    "cfg-bom": ("JADA-CFG-01", "fail", "byte-order mark"),  # CFG-02 fails too (no-BOM reading)
    "cfg-invalid": ("JADA-CFG-01", "fail", f"{USER}: line 3 column 1: invalid JSON"),
    "cfg-empty": ("JADA-CFG-01", "fail", "empty file"),
    "cfg-binary": ("JADA-CFG-01", "fail", "not UTF-8"),
    "cfg-huge": ("JADA-CFG-01", "fail", "larger than 1048576 bytes"),
    # A near miss is a warning: CFG-01 passes and names it; CFG-02 fails (no model).
    "cfg-typo": ("JADA-CFG-01", "pass", f"{USER}: /modle: warning: unknown key 'modle'; "
                 "did you mean 'model'?"),
    "cfg-symlink-out": ("JADA-CFG-01", "fail", "resolves outside /home/jada"),
    "cfg-unreadable": ("JADA-CFG-01", "fail", "not readable by the service user"),
    "cfg-writable": ("JADA-CFG-05", "fail", f"{USER} has mode 666"),
    # issue 21 item 13: creating the file or renaming a directory away is writing it
    "cfg-05-creatable-dir": ("JADA-CFG-05", "fail",
                             "/srv/jada/.claude/settings.json can be created by someone else: "
                             "/srv/jada/.claude does not exist and /srv/jada/ is writable by "
                             "group/others (mode 1777) (the sticky bit does not stop creating)"),
    "cfg-05-renamable-dir": ("JADA-CFG-05", "fail",
                             "/srv/jada/.claude/settings.json can be replaced by someone else: "
                             "/srv/jada/ is writable by group/others (mode 777) without the "
                             "sticky bit, so they can rename /srv/jada/.claude away"),
    # /srv/jada sticky and world-writable, /srv/jada/.claude root's: only root may rename it
    "cfg-05-sticky-ok": ("JADA-CFG-05", "pass", "sticky directories: only their owners"),
}
# What each claude process itself runs (issue 12 A1, A2): host -> CFG-03 message text.
PROCESS_FAULTS = {
    "cfg-proc-settings": "runs 'claude-haiku-4-5-20251001' from --settings /etc/x.json (/model) "
                         "of pid ",
    "cfg-proc-inline": "runs 'claude-haiku-4-5-20251001' from --settings inline JSON (/model) "
                       "of pid ",
    "cfg-proc-sources": f": no source sets a model (account default) — user settings {USER} "
                        "(/model) = 'claude-sonnet-4-6' is not loaded (--setting-sources '' of "
                        "pid ",
    "cfg-proc-alias-env": "'sonnet' resolves to 'claude-haiku-4-5' through "
                          "ANTHROPIC_DEFAULT_SONNET_MODEL in the environment of pid ",
}
# The service environment (A3) and project settings below a git root (A4): CFG-02 texts.
SERVICE_FAULTS = {
    "cfg-home-env": ["from user settings /srv/jada-home/.claude/settings.json (/model)",
                     "(HOME from unit Environment=)"],
    "cfg-config-dir": ["from user settings /etc/jada/claude/settings.json (/model)",
                       "(CLAUDE_CONFIG_DIR from unit Environment=)"],
    "cfg-env-wrapper": ["from ExecStart /usr/bin/env ANTHROPIC_MODEL: "
                        "'claude-haiku-4-5-20251001' matches the deny-list entry 'haiku'",
                        f"overrides user settings {USER} (/model) = 'claude-sonnet-4-6'"],
    "cfg-sh-wrapper": ["from user settings /srv/jada-home/.claude/settings.json (/model)",
                       "(HOME from ExecStart /bin/sh -c)"],
    "cfg-git-root": ["from local settings /srv/jada/.claude/settings.local.json (/model)",
                     "ambiguous: /srv/jada/app is below the git root /srv/jada",
                     "anthropics/claude-code#86187", "anthropics/claude-code#74023",
                     f"other readings give user settings {USER} (/model) = "
                     "'claude-sonnet-4-6'"],
}
# Hosts whose configuration is fine once read right: CFG-02 passes naming this source.
SERVICE_PASSES = {
    "cfg-dynamic-user": "user settings /.claude/settings.json (/model)",
    "cfg-dynamic-stopped": "user settings /.claude/settings.json (/model)",
    "cfg-proc-alias-env": f"user settings {USER} (/model)",
}
# Issue 21 (Claude Code docs v2.1.240): host -> (CFG-02 outcome, texts of its message).
DOC_RULES = {
    # item 6: a managed model is a default, not a lock: ANTHROPIC_MODEL beats it
    "cfg-managed-default": ("pass", [
        "effective model 'claude-sonnet-4-6' from unit Environment= ANTHROPIC_MODEL: ",
        "overrides managed settings /etc/claude-code/managed-settings.json (/model) = "
        f"'claude-opus-4-6'; user settings {USER} (/model) = 'claude-sonnet-4-6'"]),
    # item 7: a managed drop-in that is not JSON contributes nothing
    "cfg-managed-broken": ("pass", [
        f"effective model 'claude-sonnet-4-6' from user settings {USER} (/model)",
        "managed settings /etc/claude-code/managed-settings.d/50-model.json is not valid JSON "
        "(invalid JSON: ", "Claude Code skips it, so it contributes nothing"]),
    # item 8: the agent setting runs the main thread on that subagent's model
    "cfg-agent-setting": ("fail", [
        "effective model 'claude-haiku-4-5-20251001' from agent 'reviewer' in "
        "/home/jada/.claude/agents/reviewer.md (model), the main thread's agent by user "
        f"settings {USER} (/agent): 'claude-haiku-4-5-20251001' matches the deny-list entry "
        "'haiku'", f"overrides user settings {USER} (/model) = 'claude-sonnet-4-6'"]),
}
# item 8, read from an agent's own argv: --agents JSON and --fallback-model (CFG-03 texts)
ARGV_SOURCES = {
    "cfg-proc-agents": [
        "subagents (agent 'helper' in --agents of pid ",
        "(model)): 'claude-haiku-4-5-20251001' matches the deny-list entry 'haiku'",
        "fallback model (--fallback-model of pid ",
        "): 'claude-opus-4-6' is not in the allow-list"],
}
# Controls that cannot resolve the model where the user file is unreadable as JSON.
UNRESOLVED = ("cfg-invalid", "cfg-empty", "cfg-binary", "cfg-huge", "cfg-unreadable")


@pytest.fixture(scope="module")
def cfg_run(sandbox):
    hosts = {"compliant", "drifted", CANARY_HOST, *FAULTS, *PROCESS_FAULTS, *SERVICE_FAULTS,
             *SERVICE_PASSES, *DOC_RULES, *ARGV_SOURCES}
    return sandbox.run_suite(sorted(hosts), "-m", "area_cfg", "-n", "4")


def test_compliant_passes_every_cfg_control(cfg_run):
    for host in ("compliant", CANARY_HOST):
        for cid in CFG:
            rec = cfg_run.record(cid, host)
            assert rec["outcome"] in (("pass", "skipped") if cid == "JADA-CFG-03"
                                      else ("pass",)), rec
    rec = cfg_run.record("JADA-CFG-02", "compliant")
    assert rec["observed"] == "claude-sonnet-4-6" and USER in rec["source"]


@pytest.mark.parametrize("host", sorted(FAULTS))
def test_fault_is_caught_with_its_source(cfg_run, host):
    cid, outcome, text = FAULTS[host]
    rec = cfg_run.record(cid, host)
    assert rec["outcome"] == outcome, rec
    assert text in rec["message"], rec["message"]


@pytest.mark.parametrize("host", UNRESOLVED)
def test_unreadable_user_settings_never_pass_the_model(cfg_run, host):
    assert cfg_run.record("JADA-CFG-02", host)["outcome"] in ("error", "fail")


def test_a_typo_of_model_leaves_no_model(cfg_run):
    rec = cfg_run.record("JADA-CFG-02", "cfg-typo")
    assert rec["outcome"] == "fail" and "no source sets a model" in rec["message"], rec


def test_overridden_sources_are_named(cfg_run):
    for host in ("cfg-unit-env", "cfg-managed", "cfg-project", "cfg-flag"):
        msg = cfg_run.record("JADA-CFG-02", host)["message"]
        assert f"overrides user settings {USER} (/model) = 'claude-sonnet-4-6'" in msg, msg


def test_running_agents_are_checked(cfg_run):
    for host in ("cfg-unit-env", "cfg-flag"):
        rec = cfg_run.record("JADA-CFG-03", host)
        assert rec["outcome"] == "fail" and "haiku" in rec["message"], rec


def test_bypass_is_reported_under_info_policy(cfg_run):
    rec = cfg_run.record("JADA-CFG-04", "compliant")
    assert rec["outcome"] == "pass" and "in force" in rec["message"]


def test_no_canary_in_any_output(sandbox, tmp_path):
    run = sandbox.run_suite([CANARY_HOST], "-k", "CFG", "-vv", "-rA")
    text = run.output + json.dumps(run.report)
    assert run.records, run.output[-2000:]
    for canary in CANARIES:
        assert canary not in text


@pytest.mark.parametrize("host", sorted(PROCESS_FAULTS))
def test_each_process_is_read_from_its_own_command_line_and_environment(cfg_run, host):
    rec = cfg_run.record("JADA-CFG-03", host)
    assert rec["outcome"] == "fail", rec
    assert PROCESS_FAULTS[host] in rec["message"], rec["message"]
    # the unit's configuration is fine: only the process differs
    assert cfg_run.record("JADA-CFG-02", host)["outcome"] == "pass"


@pytest.mark.parametrize("host", sorted(SERVICE_FAULTS))
def test_the_service_environment_and_working_directory_are_followed(cfg_run, host):
    rec = cfg_run.record("JADA-CFG-02", host)
    assert rec["outcome"] == "fail", rec
    for text in SERVICE_FAULTS[host]:
        assert text in rec["message"], (text, rec["message"])
    # the running agents inherit it, and are read on their own
    assert cfg_run.record("JADA-CFG-03", host)["outcome"] == "fail"


@pytest.mark.parametrize("host", sorted(SERVICE_PASSES))
def test_settings_found_where_claude_code_reads_them_pass(cfg_run, host):
    rec = cfg_run.record("JADA-CFG-02", host)
    assert rec["outcome"] == "pass", rec
    assert rec["source"] == SERVICE_PASSES[host], rec


def test_a_dynamic_user_reads_home_slash_not_roots_home(cfg_run):
    """DynamicUser= without User=: no HOME, nss-systemd home "/" (root's file pins Haiku)."""
    rec = cfg_run.record("JADA-CFG-03", "cfg-dynamic-user")
    assert rec["outcome"] == "pass" and rec["observed"] == "claude-sonnet-4-6", rec
    assert cfg_run.record("JADA-CFG-01", "cfg-dynamic-stopped")["source"] == \
        "/.claude/settings.json"


def test_drifted_names_its_wrapper_and_agent_faults(cfg_run):
    """drifted fails CFG-02/03 as before (faults.yaml), and the messages name the faults of
    issue 12: an ExecStart env(1) wrapper, an agent's --settings file, an agent's own
    ANTHROPIC_DEFAULT_SONNET_MODEL (sandbox/hosts/drifted/FAULTS.md)."""
    cfg02 = cfg_run.record("JADA-CFG-02", "drifted")
    assert cfg02["outcome"] == "fail", cfg02
    assert "from ExecStart /usr/bin/env ANTHROPIC_MODEL" in cfg02["message"], cfg02
    assert "overrides user settings /root/.claude/settings.json (/model)" in cfg02["message"]
    cfg03 = cfg_run.record("JADA-CFG-03", "drifted")
    assert cfg03["outcome"] == "fail", cfg03
    for text in ("from --settings /etc/jada/agent-settings.json (/model) of pid ",
                 "'sonnet' resolves to 'claude-haiku-4-5' through "
                 "ANTHROPIC_DEFAULT_SONNET_MODEL in the environment of pid ",
                 "from --model of pid ",
                 # issue 21 item 8: the agent setting of a project (FAULTS.md)
                 "runs 'claude-opus-4-6' from agent 'reviewer' in "
                 "/srv/jada/review/.claude/agents/reviewer.md (model), the main thread's agent "
                 "by project settings /srv/jada/review/.claude/settings.json (/agent): "
                 "'claude-opus-4-6' is not in the allow-list"):
        assert text in cfg03["message"], (text, cfg03["message"])


@pytest.mark.parametrize("host", sorted(DOC_RULES))
def test_the_model_rules_of_the_documentation_v2_1_240(cfg_run, host):
    """Issue 21 items 6-8: each host's CFG-02 message names the documented rule's source;
    the running agents agree (CFG-03 gives the same outcome)."""
    outcome, texts = DOC_RULES[host]
    rec = cfg_run.record("JADA-CFG-02", host)
    assert rec["outcome"] == outcome, rec
    for text in texts:
        assert text in rec["message"], (text, rec["message"])
    assert "ambiguous" not in rec["message"], rec["message"]
    assert cfg_run.record("JADA-CFG-03", host)["outcome"] == outcome


@pytest.mark.parametrize("host", sorted(ARGV_SOURCES))
def test_an_agents_own_subagents_and_fallback_chain_are_judged(cfg_run, host):
    rec = cfg_run.record("JADA-CFG-03", host)
    assert rec["outcome"] == "fail", rec
    for text in ARGV_SOURCES[host]:
        assert text in rec["message"], (text, rec["message"])
    assert "You help." not in rec["message"]  # a definition's prompt never leaves the parser
    assert cfg_run.record("JADA-CFG-02", host)["outcome"] == "pass"
