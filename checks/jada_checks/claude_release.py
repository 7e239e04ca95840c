"""The Claude Code release the suite's rules were checked against, and what it says.

``make check-upstream`` (:mod:`jada_checks.dev.check_upstream`) compares all of this with what
the npm registry publishes now and prints every difference; update this module (and the
rules it names) when a release changes one.

Sources, @anthropic-ai/claude-code 2.1.332 (npm, 2026-11-24) and
@anthropic-ai/claude-code-linux-x64 2.1.332, read with ``npm pack``:

* ``package.json`` ``bin``: ``{"claude": "bin/claude.exe"}`` (since 2.1.113; up to 2.1.112
  it was ``cli.js``, run by node). ``install.cjs`` (the postinstall) links the platform
  package's ``claude`` over ``bin/claude.exe``; ``cli-wrapper.cjs`` is the fallback that
  starts that binary under node, as its child, with the same arguments.
* The native binary's installer code keeps versions in ``$XDG_DATA_HOME/claude/versions``
  (default ``~/.local/share/claude/versions/<version>``) and ``~/.local/bin/claude`` is "a
  symlink into the versions/ directory".
* Its model catalogue: the model-family ids and the aliases below (one array each in the
  binary, next to each other).
"""

from __future__ import annotations

VERSION = "2.1.332"
PACKAGE = "@anthropic-ai/claude-code"
BIN = {"claude": "bin/claude.exe"}
PLATFORM_BINARY = "claude"  # the file of @anthropic-ai/claude-code-<platform>
LAST_CLI_JS = "2.1.112"  # the last release whose bin is cli.js
NATIVE_VERSIONS = "claude/versions"  # under $XDG_DATA_HOME (~/.local/share)

# The binary's model-family ids and aliases (2.1.332).
MODEL_IDS = (
    "claude-3-5-haiku", "claude-3-5-sonnet", "claude-3-7-sonnet", "claude-fable-5",
    "claude-fable-5-1", "claude-fable-5-2", "claude-haiku-4-5", "claude-haiku-5-5",
    "claude-mythos-5", "claude-mythos-5-1", "claude-mythos-5-2", "claude-opus-4-0",
    "claude-opus-4-1", "claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7",
    "claude-opus-4-8", "claude-opus-5", "claude-opus-5-5", "claude-sonnet-4-0",
    "claude-sonnet-4-5", "claude-sonnet-4-6", "claude-sonnet-5", "claude-sonnet-5-5")
ALIASES = ("sonnet", "opus", "haiku", "fable", "best", "sonnet[1m]", "opus[1m]",
           "fable[1m]", "opusplan")
# Aliases the documentation names that the binary's list does not hold: ``default`` is a
# special value (model-config, "Model aliases": it clears any model override).
DOCUMENTED_ALIASES = ("default",)

# Keys of schemas/claude-settings.schema.json that SchemaStore's claude-code-settings.json
# does not have (yet): from the settings reference (v2.1.239) and, for autoDreamEnabled, the
# CLI's own schema (anthropics/claude-code#86209); docs/settings.md lists them.
OWN_SETTINGS_KEYS = (
    "autoCompactWindow", "autoDreamEnabled", "crossSessionInbound", "dialogExpiry",
    "disableCommandPluginSources", "enableWorkflows", "isolatePeerMachines",
    "keybindingFlavor", "promptSuggestionEnabled", "skipAutoPermissionPrompt", "spellcheck",
    "switchModelsOnFlag", "syncClaudeAiSkills", "terminalTitleFromRename", "ultracode")
