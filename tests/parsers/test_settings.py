"""jada_checks.parsers.settings and .cfg_facts: pure parsing, secret-free messages."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jada_checks.controls import catalogue
from jada_checks.facts.host import HostFacts, Section
from jada_checks.model import REGISTRY, Outcome
from jada_checks.parsers.cfg_facts import (
    FactError,
    parse_env,
    parse_exec,
    parse_files,
    parse_procs,
    shell_word,
    unquote_env_file_value,
)
from jada_checks.parsers.settings import MAX_BYTES, decode, known_keys, near_miss
from tests.support.paths import DATA, REPO

catalogue()
SECRET = "CANARY-SECRET-0d9c"
REAL_WORLD = b"""{
  "$schema": "https://json.schemastore.org/claude-code-settings.json",
  "model": "claude-sonnet-4-6",
  "apiKeyHelper": "/opt/CANARY-SECRET-0d9c/key.sh",
  "env": {"ANTHROPIC_API_KEY": "CANARY-SECRET-0d9c", "DISABLE_TELEMETRY": "1"},
  "permissions": {
    "allow": ["Bash(npm run lint)", "Read(~/.zshrc)"],
    "deny": ["Read(./.env)", "Read(./secrets/**)"],
    "defaultMode": "acceptEdits"
  },
  "hooks": {"PostToolUse": [{"matcher": "Edit|Write",
             "hooks": [{"type": "command", "command": "prettier --write CANARY-SECRET-0d9c"}]}]},
  "cleanupPeriodDays": 20,
  "someFutureKey": {"anything": true}
}"""


def kinds(raw: bytes) -> list[str]:
    return [p.kind for p in decode(raw, "f.json").problems]


def test_real_world_file_is_valid():
    f = decode(REAL_WORLD, "f.json")
    assert f.ok and f.data is not None and f.data["model"] == "claude-sonnet-4-6"


@pytest.mark.parametrize("raw, kind", [
    (b"", "empty"), (b"  \n\t", "empty"), (b"[1, 2]", "not_object"), (b'"x"', "not_object"),
    (b"null", "not_object"), (b'{"a": 1,}', "invalid_json"), (b"{'a': 1}", "invalid_json"),
    (b'{"a": NaN}', "invalid_json"), (b'{"a": Infinity}', "invalid_json"),
    (b'{"a": 1} // c', "invalid_json"), (b'{"model": "\xff"}', "not_utf8"),
    (b"\xef\xbb\xbf{}", "bom"), (b'{"model": 4}', "schema"), (b'{"env": {"K": [1]}}', "schema"),
    (b'{"permissions": {"defaultMode": "yolo"}}', "schema"),
    (b'{"permissions": {"allow": "Bash"}}', "schema"),
    (b'{"hooks": {"Stop": [{"hooks": [{"type": "command"}]}]}}', "schema"),
    (b'{"modle": "x"}', "near_miss"), (b'{"permisions": {}}', "near_miss"),
    (b'{"Model": "x"}', "near_miss"),
])
def test_bad_inputs_are_named(raw: bytes, kind: str):
    assert kind in kinds(raw)


def test_invalid_json_names_line_and_column():
    f = decode(b'{\n  "model": "x",\n}\n', "f.json")
    assert f.problems[0].where == "line 3 column 1"
    assert f.problems[0].render("f.json").startswith("f.json: line 3 column 1: invalid JSON")


def test_non_utf8_names_offset():
    f = decode(b'{"a":\n "\xc3\x28"}', "f.json")
    assert f.problems[0].kind == "not_utf8" and "line 2" in f.problems[0].where


def test_bom_is_reported_but_parsed():
    f = decode(b'\xef\xbb\xbf{"model": "claude-sonnet-4-6"}', "f.json")
    assert f.has_bom and f.usable and f.data == {"model": "claude-sonnet-4-6"}


def test_too_big_is_not_parsed():
    f = decode(b'{"a": "' + b"x" * MAX_BYTES + b'"}', "f.json")
    assert not f.usable and f.problems[0].kind == "too_big"


def test_deep_nesting_is_an_error_not_a_crash():
    assert "invalid_json" in kinds(b"[" * 100000 + b"]" * 100000)


def test_unknown_keys_are_notes_not_problems():
    f = decode(b'{"someFutureKey": 1, "zzz": 2}', "f.json")
    assert f.ok and not f.errors and not f.warnings
    assert [p.render("f.json") for p in f.notes] == [
        "f.json: /someFutureKey: info: unknown key 'someFutureKey' (Claude Code ignores "
        "unknown keys; it may be newer than the schema)",
        "f.json: /zzz: info: unknown key 'zzz' (Claude Code ignores unknown keys; it may be "
        "newer than the schema)"]


@pytest.mark.parametrize("raw", [
    b'{"autoDreamEnabled": false}', b'{"teammateDefaultModel": "claude-sonnet-4-6"}',
    b'{"teammateDefaultModel": null}',
    b'{"managedMcpServers": [{"name": "docs", "transport": "http", "url": "https://x"}]}',
    b'{"policyHelper": {"path": "/usr/local/bin/policy", "timeoutMs": 5000}}',
])
def test_current_keys_are_not_typos(raw: bytes):
    """Real keys once taken for near misses (autoDreamEnabled -> autoMemoryEnabled, ...)."""
    f = decode(raw, "f.json")
    assert f.problems == [], [p.render("f.json") for p in f.problems]


def test_near_miss_is_a_warning_not_an_error():
    f = decode(b'{"modle": "claude-sonnet-4-6"}', "f.json")
    assert f.ok and not f.errors and not f.notes
    assert [p.render("f.json") for p in f.warnings] == [
        "f.json: /modle: warning: unknown key 'modle'; did you mean 'model'? (Claude Code "
        "ignores unknown keys)"]


def test_misplaced_keys_are_warnings():
    f = decode(json.dumps({"defaultMode": "plan", "disableBypassPermissionsMode": "disable",
                           "permissions": {"allowManagedPermissionRulesOnly": True,
                                           "defualtMode": "plan", "rules": []}}).encode(),
               "f.json")
    assert f.ok
    assert [p.render("f.json") for p in f.warnings] == [
        "f.json: /defaultMode: warning: key 'defaultMode' belongs inside 'permissions'; "
        "Claude Code ignores it at the top level",
        "f.json: /disableBypassPermissionsMode: warning: key 'disableBypassPermissionsMode' "
        "belongs inside 'permissions'; Claude Code ignores it at the top level",
        "f.json: /permissions/allowManagedPermissionRulesOnly: warning: key "
        "'allowManagedPermissionRulesOnly' is a top-level key; Claude Code ignores it inside "
        "'permissions'",
        "f.json: /permissions/defualtMode: warning: unknown key 'defualtMode'; did you mean "
        "'defaultMode'? (Claude Code ignores unknown keys in 'permissions')"]
    assert [p.where for p in f.notes] == ["/permissions/rules"]


def test_unknown_hook_events_are_warnings_and_known_ones_are_checked():
    f = decode(json.dumps({
        "PreToolUse": [], "hooks": {
            "PretoolUse": [], "PreCommit": {"command": "x"},
            "Stop": [{"matcher": {"tools": ["Bash"]}, "hooks": []}]}}).encode(), "f.json")
    assert [p.render("f.json") for p in f.errors] == [
        "f.json: /hooks/Stop/0/matcher: expected string, got dict"]
    assert [p.render("f.json") for p in f.warnings] == [
        "f.json: /PreToolUse: warning: key 'PreToolUse' belongs inside 'hooks'; Claude Code "
        "ignores it at the top level",
        "f.json: /hooks/PreCommit: warning: unknown hook event 'PreCommit'; Claude Code skips "
        "the hooks of an event it does not know",
        "f.json: /hooks/PretoolUse: warning: unknown hook event 'PretoolUse'; did you mean "
        "'PreToolUse'? Claude Code skips the hooks of an event it does not know"]


def test_env_numbers_are_accepted_with_a_warning():
    f = decode(b'{"env": {"MAX_THINKING_TOKENS": 31999, "DEBUG": true, "X": "1"}}', "f.json")
    assert f.ok
    assert [p.where for p in f.warnings] == ["/env/DEBUG", "/env/MAX_THINKING_TOKENS"]
    assert "Claude Code converts it to a string" in f.warnings[0].message
    assert all("31999" not in p.render("f.json") for p in f.problems)


@pytest.mark.parametrize("key, match", [
    ("modle", "model"), ("Model", "model"), ("MODEL", "model"), ("permisions", "permissions"),
    ("permission", "permissions"), ("hook", "hooks"), ("apiKeyHelpr", "apiKeyHelper"),
    ("cleanupPeriodDay", "cleanupPeriodDays"), ("includeCoauthoredBy", "includeCoAuthoredBy"),
    ("enviroment", None), ("ui", None), ("mcpServers", None), ("permissionRules", None),
    ("autoDream", None), ("maxTokens", None), ("_comment", None),
])
def test_near_miss_table(key: str, match: str | None):
    assert near_miss(key, known_keys()) == match


NEAR_PAIRS = {"requiredMinimumVersion": "requiredMaximumVersion",
              "requiredMaximumVersion": "requiredMinimumVersion"}


def test_known_keys_are_not_near_misses_of_each_other():
    keys = known_keys()
    for key in keys:
        assert near_miss(key, [k for k in keys if k != key]) == NEAR_PAIRS.get(key), key


def test_messages_never_echo_values():
    bad = json.dumps({"model": 5, "apiKeyHelper": 7, "env": {"K": [SECRET]},
                      "permissions": {"defaultMode": SECRET, SECRET[:6]: 1},
                      "hooks": {"Stop": [{"hooks": [{"type": SECRET}]}]}}).encode()
    f = decode(bad, "f.json")
    assert f.problems
    assert all(SECRET not in p.render("f.json") for p in f.problems)


# -- the schema against its references -------------------------------------------------

REFERENCE = json.loads((DATA / "settings-keys-reference.json").read_text(encoding="utf-8"))
SCHEMA = json.loads((REPO
                     / "schemas/claude-settings.schema.json").read_text(encoding="utf-8"))
JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number",
              type(None): "null", list: "array", dict: "object"}


def json_types(node: dict[str, Any]) -> set[str]:
    """The JSON types a schema node admits, from type, $ref, anyOf, enum or const."""
    if "$ref" in node:
        target: Any = SCHEMA
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        return json_types(target)
    if "type" in node:
        return set(node["type"] if isinstance(node["type"], list) else [node["type"]])
    if "anyOf" in node:
        return set().union(*(json_types(sub) for sub in node["anyOf"]))
    values = node["enum"] if "enum" in node else [node["const"]]
    return {JSON_TYPES[type(v)] for v in values}


def test_schema_has_every_schemastore_key_with_its_types():
    ours = SCHEMA["properties"]
    wanted = REFERENCE["schemastore"]["keys"]
    assert len(wanted) == 142
    assert sorted(set(wanted) - set(ours)) == []
    assert {k: sorted(json_types(ours[k])) for k in wanted} == wanted


def test_schema_has_every_documented_key():
    ours = SCHEMA["properties"]
    ref = REFERENCE["settings_reference"]
    assert sorted(set(ref["keys"]) - set(ours)) == []
    for key, types in {**ref["types_of_keys_not_in_schemastore"],
                       **{k: v["types"] for k, v in REFERENCE["other"].items()}}.items():
        assert sorted(json_types(ours[key])) == types, key
    assert "2026-08" in SCHEMA["$comment"] and "schemastore" in SCHEMA["$comment"].lower()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_never_raises_on_garbage(raw: bytes):
    f = decode(raw, "f.json")
    assert f.usable or f.problems  # garbage is never silently fine


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                         max_size=4),
                    max_leaves=20))
def test_any_json_value_gets_a_verdict(value: object):
    f = decode(json.dumps(value).encode(), "f.json")
    if not isinstance(value, dict):
        assert not f.usable
    for p in f.problems:
        assert p.render("f.json")


# -- cfg probe output -----------------------------------------------------------------

def b(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def file_rec(role: str, path: str, state: str = "ok", content: bytes = b"{}",
             owner: str = "root", mode: str = "644", rd: str = "1") -> str:
    data = b(content) if state == "ok" else ""
    size = str(len(content)) if state != "missing" else "-"
    return "\t".join(["F", role, b(path), state, size, owner, mode, b(path), "root:755", rd,
                      data])


def test_parse_files_round_trip():
    text = "\n".join([
        "\t".join(["H", b("/home/jada"), b("/home/jada"), b("/srv/jada")]),
        file_rec("user", "/home/jada/.claude/settings.json", content=b'{"model": "m"}'),
        file_rec("project", "/srv/jada/.claude/settings.json", "missing"),
        file_rec("managed.d", "/etc/claude-code/managed-settings.d/10.json", "toobig"),
    ])
    f = parse_files(text)
    user = f.role("user")[0]
    assert user.settings.data == {"model": "m"} and user.mode == 0o644 and user.readable
    assert not f.role("project")[0].exists
    assert f.role("managed.d")[0].settings.problems[0].kind == "too_big"


@pytest.mark.parametrize("text", ["X\t1", "F\tuser\tnot-b64!\tok", "H\t!!\t!!\t!!",
                                  file_rec("user", "/x", state="weird")])
def test_parse_files_rejects_malformed(text: str):
    with pytest.raises(FactError):
        parse_files(text)


def test_parse_env_precedence_and_quoting():
    text = "\n".join([
        "E\tdefault\t" + json.dumps("ANTHROPIC_MODEL=from-manager"),
        "E\tunit\t" + json.dumps("ANTHROPIC_MODEL=from-unit"),
        "E\tunit\t" + json.dumps("HOME=/srv/home"),
        "EF\t" + b("/etc/jada/env") + "\t0\tok",
        "EV\t" + b("/etc/jada/env") + "\t" + b('ANTHROPIC_MODEL="claude-haiku-4-5"'),
        "EV\t" + b("/etc/jada/env") + "\t" + b("ANTHROPIC_DEFAULT_SONNET_MODEL=x"),
        "MS",
        "M\tANTHROPIC_MODEL\t" + b("from-unit"),
        "M\tHOME\t" + b("/srv/home"),
    ])
    env = parse_env(text)
    last = env.last("ANTHROPIC_MODEL")
    assert last is not None and last.value == "claude-haiku-4-5"
    assert last.where == "EnvironmentFile=/etc/jada/env"
    assert env.last("HOME").value == "/srv/home"
    assert env.last("ANTHROPIC_DEFAULT_SONNET_MODEL").value == "x"
    assert env.main_pid_seen and env.main_pid_model == "from-unit"
    assert env.main_pid_env["HOME"] == "/srv/home"


def test_parse_env_never_takes_other_variables():
    text = "E\tunit\t" + json.dumps("ANTHROPIC_API_KEY=" + SECRET)
    assert parse_env(text).assignments == []
    with pytest.raises(FactError, match="not gathered"):
        parse_env("M\tANTHROPIC_API_KEY\t" + b(SECRET))


def test_env_file_unquoting():
    assert unquote_env_file_value(' "a \\"b\\"" ') == 'a "b"'
    assert unquote_env_file_value("'x y'") == "x y"
    assert unquote_env_file_value("plain") == "plain"


def x_rec(kind: str, value: str = "", extra: str = "") -> str:
    return "\t".join(["X", kind, b(value), b(extra)])


def test_parse_exec_forms():
    text = "\n".join([x_rec("model", "haiku"), x_rec("model", "opus"), x_rec("skip"),
                      x_rec("settings-file", "x.json", "/srv/jada/x.json"),
                      x_rec("setting-sources", "user,project"),
                      x_rec("permission-mode", "bypassPermissions"),
                      "\t".join(["W", b("/usr/bin/env"), "set", "ANTHROPIC_MODEL", b("m")]),
                      "\t".join(["W", b("/bin/sh -c"), "sh", "HOME", b("'/srv/h'")]),
                      "\t".join(["W", b("/usr/bin/env"), "clear", "-", ""])])
    ex = parse_exec(text)
    assert ex.models == ["haiku", "opus"] and ex.skip_permissions
    assert ex.setting_sources == "user,project"
    assert ex.permission_mode == "bypassPermissions"
    assert ex.settings is not None and ex.settings.path == "/srv/jada/x.json"
    assert ex.settings.given == "x.json"
    assert [(w.program, w.action, w.name, w.value) for w in ex.wrappers] == [
        ("/usr/bin/env", "set", "ANTHROPIC_MODEL", "m"), ("/bin/sh -c", "sh", "HOME", "'/srv/h'"),
        ("/usr/bin/env", "clear", "-", "")]


def test_inline_settings_are_parsed_like_a_file():
    doc = json.dumps({"model": "claude-haiku-4-5", "env": {"ANTHROPIC_API_KEY": SECRET}})
    ex = parse_exec("\t".join(["X", "settings-inline", b(doc), "ok"]))
    assert ex.settings is not None and ex.settings.inline is not None
    assert ex.settings.inline.data["model"] == "claude-haiku-4-5"
    big = parse_exec("\t".join(["X", "settings-inline", "", "toobig"]))
    assert big.settings.inline.problems[0].kind == "too_big"


@pytest.mark.parametrize("raw, value", [
    ("plain", "plain"), ("'a b'", "a b"), ('"a \\"b\\""', 'a "b"'), ("a\\ b", "a b"),
    ("'x'\"y\"z", "xyz"), ("$HOME", None), ('"$X"', None), ("'$X'", "$X"), ("`id`", None),
    ('"\\$X"', "$X"), ("", ""),
])
def test_shell_words(raw: str, value: str | None):
    assert shell_word(raw) == value


def test_parse_procs():
    text = "\n".join([
        "C\t4",
        "\t".join(["P", "42", b("/srv/jada"), "990", b("/home/jada"), "ok"]),
        "\t".join(["V", "42", "ANTHROPIC_MODEL", b("x")]),
        "\t".join(["V", "42", "ANTHROPIC_DEFAULT_SONNET_MODEL", b("claude-haiku-4-5")]),
        "\t".join(["A", "42", "model", b("haiku"), ""]),
        "\t".join(["A", "42", "skip", "", ""]),
        "\t".join(["A", "42", "setting-sources", "", ""]),
        "\t".join(["A", "42", "settings-file", b("/etc/x.json"), b("/etc/x.json")]),
        "\t".join(["R", b("/srv/jada"), b(""), "none"]),
    ])
    procs = parse_procs(text)
    assert procs.scanned == 4 and procs.roots["/srv/jada"].state == "none"
    p = procs.claude[0]
    assert (p.pid, p.model, p.env_model, p.skip_permissions) == (42, "haiku", "x", True)
    assert (p.cwd, p.euid, p.passwd_home) == ("/srv/jada", 990, "/home/jada")
    assert p.setting_sources == "" and p.settings is not None
    assert p.settings.path == "/etc/x.json"
    assert p.env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "claude-haiku-4-5"


@pytest.mark.parametrize("text", [
    "\t".join(["V", "42", "HOME", b("/x")]),  # a process that was not announced
    "\t".join(["P", "42", b("/"), "0", b("/root"), "ok"]) + "\n"
    + "\t".join(["V", "42", "AWS_SECRET_ACCESS_KEY", b(SECRET)]),
    "\t".join(["P", "42", b("/"), "0", b("/root"), "ok"]) + "\n"
    + "\t".join(["A", "42", "append-system-prompt", b(SECRET), ""]),
    "\t".join(["R", b("/srv"), b(""), "maybe"]),
])
def test_parse_procs_rejects_what_is_never_gathered(text: str):
    with pytest.raises(FactError):
        parse_procs(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fact_parsers_fail_cleanly(text: str):
    for parse in (parse_files, parse_env, parse_exec, parse_procs):
        try:
            parse(text)
        except FactError:
            pass


def test_unreadable_process_environment_is_flagged():
    text = "\t".join(["P", "7", b("/"), "-", b(""), "-"])
    assert parse_procs(text).claude[0].env_readable is False


# -- JADA-CFG-01 on these findings (pure: facts in, outcome out) -----------------------

@dataclass
class FakeCtx:
    expect: dict[str, Any]
    host: HostFacts


def cfg01(content: bytes) -> Outcome:
    files = "\n".join([
        "\t".join(["H", b("/home/jada"), b("/home/jada"), b("/srv/jada")]),
        file_rec("user", "/home/jada/.claude/settings.json", content=content)])
    sections = {"cfg_files": Section("cfg_files", 0, files, ""),
                "cfg_env": Section("cfg_env", 0, "", ""),
                "cfg_exec": Section("cfg_exec", 0, "", ""),
                "unit_show": Section("unit_show", 0, "User=jada\n", "")}
    return REGISTRY["JADA-CFG-01"].check(FakeCtx({}, HostFacts(sections)))  # type: ignore[arg-type]


USER = "/home/jada/.claude/settings.json"


def test_cfg01_passes_a_near_miss_with_the_warning_in_the_message():
    out = cfg01(b'{"model": "claude-sonnet-4-6", "modle": "x", "someFutureKey": 1}')
    assert out.status == "pass", out
    assert out.message == (
        f"{USER} is valid (3 top-level key(s), model key set); 1 warning(s): {USER}: /modle: "
        "warning: unknown key 'modle'; did you mean 'model'? (Claude Code ignores unknown "
        "keys); 1 unknown key(s) Claude Code ignores: /someFutureKey")
    assert out.observed == "valid, 1 warning(s)"


def test_cfg01_passes_current_keys_without_findings():
    out = cfg01(b'{"model": "claude-sonnet-4-6", "autoDreamEnabled": true, '
                b'"policyHelper": {"path": "/p"}, "managedMcpServers": [], '
                b'"teammateDefaultModel": null}')
    assert (out.status, out.message, out.observed) == (
        "pass", f"{USER} is valid (5 top-level key(s), model key set)", "valid")


def test_cfg01_fails_on_errors_and_still_names_the_warnings():
    out = cfg01(b'{"model": "claude-sonnet-4-6", "cleanupPeriodDays": "30", "permisions": {}}')
    assert out.status == "fail", out
    assert out.message == (
        f"1 problem(s) in the service user's settings: {USER}: /cleanupPeriodDays: expected "
        f"integer, got str; 1 warning(s): {USER}: /permisions: warning: unknown key "
        "'permisions'; did you mean 'permissions'? (Claude Code ignores unknown keys)")


def test_drifted_host_settings_fail_cfg01_and_carry_the_near_miss():
    """make demo needs drifted to fail JADA-CFG-01; a near miss alone no longer does."""
    root = REPO / "sandbox/hosts/drifted/rootfs/root"
    f = decode((root / ".claude/settings.json").read_bytes(), "s.json")
    assert [p.render("s.json") for p in f.errors] == [
        "s.json: /includeCoAuthoredBy: expected boolean, got str"]
    assert [p.where for p in f.warnings] == ["/permisions"]


def test_a_file_behind_an_unsearchable_directory_is_never_missing():
    f = parse_files("\n".join([
        "\t".join(["H", b("/home/jada"), b("/home/jada"), b("/srv/jada")]),
        file_rec("user", "/home/jada/.claude/settings.json", "unsearchable")]))
    user = f.role("user")[0]
    assert user.exists and not user.settings.usable
    assert "cannot be searched" in user.settings.problems[0].message
