"""JADA-CFG against real sandbox hosts: each cfg-* host changes one thing of ``compliant``.

Runs the suite as a user would (``sandbox.run_suite``) restricted to the CFG controls, and
checks outcomes, that the message names the winning source, and that no canary secret
planted in ``cfg-canary``'s settings ever appears in any output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CANARY_HOST = "cfg-canary"
CANARIES = ("CANARY-HELPER-7f3a9c", "CANARY-APIKEY-5d21e8b4", "CANARY-ENVNOTE-91c0aa",
            "CANARY-HOOK-2b7e61")
CFG = [f"JADA-CFG-0{i}" for i in range(1, 6)]
USER = "/home/jada/.claude/settings.json"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.sandbox_hosts("compliant", "cfg-*"),
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
}
# Controls that cannot resolve the model where the user file is unreadable as JSON.
UNRESOLVED = ("cfg-invalid", "cfg-empty", "cfg-binary", "cfg-huge", "cfg-unreadable")


@pytest.fixture(scope="module")
def cfg_run(sandbox):
    return sandbox.run_suite(["compliant", CANARY_HOST, *FAULTS], "-k", "CFG", "-n", "4")


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
