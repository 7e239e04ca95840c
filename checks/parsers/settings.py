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
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from jada_checks.inputs import describe_schema_error, load_schema, pointer

SCHEMA = "claude-settings.schema.json"
MAX_BYTES = 1024 * 1024
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a settings file. ``where`` is ``line L column C`` or a pointer."""

    kind: str  # missing, empty, too_big, bom, not_utf8, invalid_json, not_object,
    #            schema, near_miss, unreadable
    where: str
    message: str

    def render(self, path: str) -> str:
        return f"{path}: {self.where}: {self.message}" if self.where else f"{path}: {self.message}"


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
    def ok(self) -> bool:
        return self.data is not None and not self.problems


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
    out.problems.extend(near_misses(data))
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


def known_keys() -> list[str]:
    return sorted(load_schema(SCHEMA)["properties"])


def near_misses(data: dict[str, Any]) -> list[Problem]:
    """Unknown top-level keys that look like a known one (``modle`` → ``model``).

    Claude Code ignores unknown keys, so a typo silently drops the intended setting.
    Keys are names, not values, so they may be printed.
    """
    known = known_keys()
    lowered = {k.lower(): k for k in known}
    out = []
    for key in data:
        if key in known or not isinstance(key, str):
            continue
        match = lowered.get(key.lower()) or next(
            iter(difflib.get_close_matches(key, known, n=1, cutoff=0.75)), None)
        if match:
            out.append(Problem("near_miss", pointer([key]),
                               f"unknown key {key!r}; did you mean {match!r}? "
                               "(Claude Code ignores unknown keys)"))
    return out


def missing(path: str) -> SettingsFile:
    return SettingsFile(path, None, [Problem("missing", "", "no such file")])


def unusable(path: str, kind: str, message: str) -> SettingsFile:
    """A file whose content we do not have (too big, unreadable, not a regular file)."""
    return SettingsFile(path, None, [Problem(kind, "", message)])
