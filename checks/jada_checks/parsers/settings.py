"""Parsing Claude Code settings files: bytes in, data plus secret-free problems out.

Settings files hold credentials (``env``, ``apiKeyHelper``, hook commands), so nothing
here ever puts a value from the file into a message: problems name the file, a line and
column or a JSON pointer, and what was expected.

Decisions (see docs/settings.md):

* A UTF-8 byte-order mark is a *problem* but the rest is still parsed: the Claude Code CLI
  rejected such files as malformed (anthropics/claude-code#9906) and the desktop app still
  does (#81355), while later CLIs tolerate it, so the file's effect depends on the version.
* Files over :data:`MAX_BYTES` are not parsed (the probe does not even transfer them).
* JSON is parsed as strictly as JavaScript's ``JSON.parse``: no NaN/Infinity, no comments,
  no trailing commas; duplicate keys keep the last value, like ``JSON.parse``.
* Findings have a level. *error*: Claude Code rejects or cannot read the file (syntax, schema
  types). *warning*: Claude Code accepts the file but a setting silently does not apply as
  written: a near miss of a known key (``modle``), a key in the wrong object
  (``defaultMode`` at the top level), a hook event it does not know (it skips those hooks,
  a "Settings Warning"), an ``env`` value that is not a string. *info*: an
  unknown key that resembles nothing known (Claude Code ignores it; it may be newer than
  the schema).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from jada_checks.inputs import describe_schema_error, load_schema, pointer

SCHEMA = "claude-settings.schema.json"
MAX_BYTES = 1024 * 1024
BOM = b"\xef\xbb\xbf"
LEVELS = ("error", "warning", "info")
# Objects whose keys Claude Code knows, so a key found in the wrong one can be named.
NESTED = ("permissions", "sandbox", "hooks")
# Unknown keys with a known home elsewhere (said in the note instead of "may be newer").
ELSEWHERE = {
    "mcpServers": "MCP servers are configured in .mcp.json or ~/.claude.json; some versions "
                  "rejected the whole file for this key, anthropics/claude-code#35203",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a settings file. ``where`` is ``line L column C`` or a pointer."""

    kind: str  # errors: missing, empty, too_big, bom, not_utf8, invalid_json, not_object,
    #            schema, unreadable; warnings: near_miss, misplaced, unknown_hook_event,
    #            env_not_string; info: unknown_key
    where: str
    message: str
    level: str = "error"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown problem level {self.level!r}")

    def render(self, path: str) -> str:
        text = self.message if self.level == "error" else f"{self.level}: {self.message}"
        return f"{path}: {self.where}: {text}" if self.where else f"{path}: {text}"


@dataclass
class SettingsFile:
    """The outcome of parsing one file: ``data`` is None when it could not be read as JSON."""

    path: str
    data: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return not any(p.kind == "missing" for p in self.problems)

    @property
    def usable(self) -> bool:
        """True when the file's content is known (it may still have schema problems)."""
        return self.data is not None

    @property
    def has_bom(self) -> bool:
        return any(p.kind == "bom" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def notes(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "info"]

    @property
    def ok(self) -> bool:
        """Parsed and without errors (warnings and notes allowed)."""
        return self.data is not None and not self.errors


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def decode(raw: bytes, path: str) -> SettingsFile:
    """Parse raw bytes into a SettingsFile; never raises on any input."""
    out = SettingsFile(path)
    if len(raw) > MAX_BYTES:
        out.problems.append(Problem("too_big", "", f"larger than {MAX_BYTES} bytes "
                                    f"({len(raw)}); not parsed"))
        return out
    if raw.startswith(BOM):
        out.problems.append(Problem(
            "bom", "line 1 column 1",
            "starts with a UTF-8 byte-order mark; some Claude Code versions reject the whole "
            "file as malformed JSON (remove the BOM)"))
        raw = raw[len(BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw[:exc.start].decode("utf-8", "replace"), exc.start)
        out.problems.append(Problem("not_utf8", f"line {line} column {col}",
                                    f"not UTF-8 text (invalid byte at offset {exc.start})"))
        return out
    if not text.strip():
        out.problems.append(Problem("empty", "", "empty file (no JSON value)"))
        return out
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # exc.msg is the parser's own description ("Expecting ',' delimiter"), never content.
        out.problems.append(Problem("invalid_json", f"line {exc.lineno} column {exc.colno}",
                                    f"invalid JSON: {exc.msg}"))
        return out
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else \
            "a value is not valid JSON (NaN, Infinity or an oversized number)"
        out.problems.append(Problem("invalid_json", "", f"invalid JSON: {reason}"))
        return out
    if not isinstance(data, dict):
        out.problems.append(Problem("not_object", "/",
                                    f"expected a JSON object at the top level, got "
                                    f"{_json_type(data)}"))
        return out
    out.data = data
    out.problems.extend(schema_problems(data))
    out.problems.extend(key_findings(data))
    return out


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean",
             int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def schema_problems(data: Any) -> list[Problem]:
    """Schema violations, sorted by pointer, described without echoing values."""
    validator = jsonschema.Draft202012Validator(load_schema(SCHEMA))
    try:
        errors = list(validator.iter_errors(data))
    except RecursionError:
        return [Problem("schema", "/", "nested too deeply to validate")]
    errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
    seen: set[tuple[str, str]] = set()
    out = []
    for err in errors:
        where, what = pointer(list(err.absolute_path)), describe_schema_error(err)
        if (where, what) not in seen:
            seen.add((where, what))
            out.append(Problem("schema", where, what))
    return out


def known_keys(parent: str | None = None) -> list[str]:
    """Top-level keys of the schema, or the keys of one of its objects (``permissions``)."""
    props = load_schema(SCHEMA)["properties"]
    return sorted(props[parent]["properties"] if parent else props)


def _distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def near_miss(key: str, known: list[str]) -> str | None:
    """The known key that ``key`` misspells, if any.

    A near miss differs only in case, or by at most one edit (insertion, deletion,
    substitution, swap of neighbours) for names up to 10 characters and two for longer
    ones; names of 4 characters or fewer must match but for case. Distinct known keys are
    at least 2 edits apart (requiredMinimumVersion/requiredMaximumVersion) and mostly 3 or
    more, so a real new key is rarely taken for a typo (``autoDreamEnabled`` is 5 edits from
    ``autoMemoryEnabled``).
    """
    best: tuple[int, str] | None = None
    low = key.lower()
    for name in known:
        longest = max(len(key), len(name))
        allowed = 0 if longest <= 4 else 1 if longest <= 10 else 2
        d = _distance(low, name.lower())
        if d <= allowed and (best is None or d < best[0]):
            best = (d, name)
    return best[1] if best else None


def _name(key: str) -> str:
    """A key name for a message (names are not values; very long ones are cut)."""
    return repr(key if len(key) <= 60 else key[:57] + "...")


def key_findings(data: dict[str, Any]) -> list[Problem]:
    """Warnings and notes about keys Claude Code accepts but does not apply as written.

    Current Claude Code versions load a file with unknown keys and ignore them (v1.0.51
    rejected it, anthropics/claude-code#3481), so a typo or a key in the wrong object
    silently drops the setting. Unknown keys inside ``permissions`` are treated alike (the
    schema lets them through; no documentation says Claude Code rejects them). Keys are
    names, not values, so they may be printed; values never are.
    """
    top = known_keys()
    inner = {parent: known_keys(parent) for parent in NESTED}
    out = _top_level(data, top, inner)
    perms, hooks, env = (data.get(k) for k in ("permissions", "hooks", "env"))
    if isinstance(perms, dict):
        out += _in_permissions(perms, top, inner["permissions"])
    if isinstance(hooks, dict):
        out += _in_hooks(hooks, inner["hooks"])
    if isinstance(env, dict):
        out += _in_env(env)
    return sorted(out, key=lambda p: p.where)


def _top_level(data: dict[str, Any], top: list[str],
               inner: dict[str, list[str]]) -> list[Problem]:
    out = []
    for key in (k for k in data if k not in top):
        home = next((parent for parent in NESTED if key in inner[parent]), None)
        if home:
            out.append(Problem("misplaced", pointer([key]),
                               f"key {_name(key)} belongs inside {home!r}; Claude Code ignores "
                               "it at the top level", "warning"))
        elif match := near_miss(key, top):
            out.append(Problem("near_miss", pointer([key]),
                               f"unknown key {_name(key)}; did you mean {match!r}? (Claude Code "
                               "ignores unknown keys)", "warning"))
        else:
            why = ELSEWHERE.get(key, "it may be newer than the schema")
            out.append(Problem("unknown_key", pointer([key]),
                               f"unknown key {_name(key)} (Claude Code ignores unknown keys; "
                               f"{why})", "info"))
    return out


def _in_permissions(perms: dict[str, Any], top: list[str], known: list[str]) -> list[Problem]:
    out = []
    for key in (k for k in perms if k not in known):
        where = pointer(["permissions", key])
        if key in top:
            out.append(Problem("misplaced", where,
                               f"key {_name(key)} is a top-level key; Claude Code ignores it "
                               "inside 'permissions'", "warning"))
        elif match := near_miss(key, known):
            out.append(Problem("near_miss", where,
                               f"unknown key {_name(key)}; did you mean {match!r}? (Claude Code "
                               "ignores unknown keys in 'permissions')", "warning"))
        else:
            out.append(Problem("unknown_key", where,
                               f"unknown key {_name(key)} in 'permissions' (Claude Code "
                               "ignores it)", "info"))
    return out


def _in_hooks(hooks: dict[str, Any], events: list[str]) -> list[Problem]:
    """Claude Code skips the hooks of an event it does not know ("Settings Warning")."""
    out = []
    for key in (k for k in hooks if k not in events):
        match = near_miss(key, events)
        guess = f"did you mean {match!r}? " if match else ""
        out.append(Problem("unknown_hook_event", pointer(["hooks", key]),
                           f"unknown hook event {_name(key)}; {guess}Claude Code skips the "
                           "hooks of an event it does not know", "warning"))
    return out


def _in_env(env: dict[str, Any]) -> list[Problem]:
    """Numbers and booleans: coerced to strings by Claude Code, documented as strings."""
    return [Problem("env_not_string", pointer(["env", key]),
                    "a number or boolean where the documented type is string: Claude Code "
                    "converts it to a string, but some versions failed on it "
                    "(anthropics/claude-code#45494); quote the value", "warning")
            for key, value in env.items() if isinstance(value, (bool, int, float))]


def missing(path: str) -> SettingsFile:
    return SettingsFile(path, None, [Problem("missing", "", "no such file")])


def unusable(path: str, kind: str, message: str) -> SettingsFile:
    """A file whose content we do not have (too big, unreadable, not a regular file)."""
    return SettingsFile(path, None, [Problem(kind, "", message)])
