"""``make check-upstream``'s comparisons on fixed inputs (no registry): each difference is
found and said, and equal inputs give none. The inputs are shaped as the real ones are:
npm view's fields, install.cjs's line, the binary's model arrays (2.1.332), the
@schemastore/claude-code-settings type definitions."""

from __future__ import annotations

import json

import pytest

from jada_checks import claude_release as rel
from jada_checks.dev.check_upstream import (
    Unavailable,
    Upstream,
    compare_keys,
    compare_layout,
    compare_models,
    extract_models,
    suite_aliases,
    ts_keys,
)
from jada_checks.model_resolution import ALIAS

INSTALL = "  const dest = path.join(__dirname, 'bin', 'claude.exe')\n"
BINARY = b'x=function Aet(e){return o(oIt(e),"claude","versions")} "~/.local/bin/claude"'
STANDIN = {"name": rel.PACKAGE, "version": rel.VERSION, "bin": rel.BIN}


def upstream(**kw) -> Upstream:
    base = {"version": rel.VERSION, "bin": dict(rel.BIN),
            "optional": {f"{rel.PACKAGE}-linux-x64": rel.VERSION},
            "install_text": INSTALL, "platform_files": ["claude", "README.md"],
            "binary": BINARY}
    base.update(kw)
    return Upstream(**base)


def test_the_layout_as_published_today_has_no_difference():
    assert compare_layout(STANDIN, rel.VERSION, upstream()) == []


def test_a_new_release_is_named_for_the_stand_in_the_real_host_and_the_rules():
    out = compare_layout(STANDIN, rel.VERSION, upstream(version="2.1.340"))
    assert out == [
        f"the stand-in is laid out as {rel.PACKAGE} {rel.VERSION}, the newest is 2.1.340",
        f"cfg-real-claude runs {rel.VERSION}, the newest is 2.1.340",
        f"the recognition rules were checked against {rel.VERSION} "
        "(claude_release.VERSION), the newest is 2.1.340"]


def test_a_changed_layout_is_named():
    out = compare_layout(STANDIN, rel.VERSION, upstream(
        bin={"claude": "bin/claude"}, optional={}, install_text="copy(src, 'claude')",
        platform_files=["bin/claude-code"], binary=b"nothing"))
    assert out == [
        'package.json bin is {"claude": "bin/claude"}, the rules expect '
        '{"claude": "bin/claude.exe"}',
        'the stand-in\'s bin is {"claude": "bin/claude.exe"}, the package\'s '
        '{"claude": "bin/claude"}',
        "@anthropic-ai/claude-code-linux-x64 is no longer among the optionalDependencies "
        "(none)",
        "install.cjs no longer places the binary at bin/claude.exe",
        "@anthropic-ai/claude-code-linux-x64's files are ['bin/claude-code'], without "
        "'claude'",
        "the binary no longer contains '\"claude\",\"versions\"' (the native installer's "
        "layout may have changed)",
        "the binary no longer contains '~/.local/bin/claude' (the native installer's layout "
        "may have changed)"]


def test_the_stand_in_checked_in_matches_the_rules():
    """The committed stand-in package.json is what compare_layout reads."""
    from jada_checks.dev.check_upstream import REAL_HOST
    from jada_checks.dev.check_upstream import STANDIN as PATH
    assert compare_layout(json.loads(PATH.read_text()),
                          REAL_HOST.read_text().strip(), upstream()) == []


def test_schema_keys_differences():
    own = {"autoDreamEnabled"}
    assert compare_keys({"model", "env", "autoDreamEnabled"}, {"model", "env"}, own) == []
    assert compare_keys({"model", "modle"}, {"model", "agent", "autoDreamEnabled"}, own) == [
        "SchemaStore has 2 key(s) our schema lacks: agent, autoDreamEnabled",
        "our schema has 1 key(s) SchemaStore lacks and claude_release.OWN_SETTINGS_KEYS "
        "does not list: modle",
        "1 key(s) of OWN_SETTINGS_KEYS are in SchemaStore now (drop them from the list): "
        "autoDreamEnabled"]


def test_model_catalogue_as_published_today_has_no_difference():
    ids, aliases = extract_models(
        b'var U5e=[' + b",".join(json.dumps(i).encode() for i in rel.MODEL_IDS)
        + b'],ume=[' + b",".join(json.dumps(a).encode() for a in rel.ALIASES)
        + b'],Rle=["sonnet","opus","haiku","fable"];')
    assert ids == set(rel.MODEL_IDS) and aliases == set(rel.ALIASES)
    assert compare_models(ids, aliases, suite_aliases(ALIAS.pattern),
                          ["claude-sonnet-4-6"]) == []


def test_model_differences_are_named():
    ids = set(rel.MODEL_IDS) - {"claude-sonnet-4-6"} | {"claude-sonnet-6"}
    aliases = set(rel.ALIASES) | {"mythos"}
    out = compare_models(ids, aliases, suite_aliases(ALIAS.pattern) | {"legacy"},
                         ["claude-sonnet-4-6-20260101"])
    assert out == [
        "model ids new in the newest release: claude-sonnet-6",
        "model ids no longer in the newest release: claude-sonnet-4-6",
        "aliases new in the newest release: mythos",
        "aliases model_resolution.ALIAS does not treat as floating (a pinned model to the "
        "suite): mythos",
        "model_resolution.ALIAS has aliases Claude Code no longer knows: legacy",
        "the profile's default allow-list names 'claude-sonnet-4-6-20260101', which the "
        "newest release does not know"]


@pytest.mark.parametrize("binary", [b"no arrays", b'a=["claude-a","claude-b","claude-c",'
                                    b'"claude-d","claude-e"],b=["x"] c=["claude-a",'
                                    b'"claude-b","claude-c","claude-d","claude-e"],d=["y"]'])
def test_a_moved_catalogue_is_not_compared_silently(binary):
    with pytest.raises(Unavailable, match="model catalogue is not where it was"):
        extract_models(binary)


def test_schemastore_type_definitions_give_the_top_level_keys():
    text = """export type PermissionRule = string;
export interface ClaudeCodeSettings {
  /**
   * JSON Schema reference
   */
  $schema?: string;
  model?: string;
  env?: {
    ANTHROPIC_MODEL?: string;
  };
  'odd-key'?: boolean;
  [k: string]: unknown;
}
export interface Other {
  notATopLevelKey?: string;
}
"""
    assert ts_keys(text) == {"$schema", "model", "env", "odd-key"}
    with pytest.raises(Unavailable):
        ts_keys("export interface Other {\n}\n")
