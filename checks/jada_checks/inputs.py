"""Reading the suite's own input files (profile, waivers, baselines) with clear errors.

Every problem is reported as an :class:`InputError` naming the file, the JSON pointer
(and YAML line where known) and what was expected, never as a traceback.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class InputError(Exception):
    """A bad input file; the message is meant for the user as it is."""


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load ``schemas/<name>``: package data (``jada_checks.schemas``), so it is there in
    the wheel as in the checkout."""
    return json.loads(resources.files("jada_checks.schemas").joinpath(name)
                      .read_text(encoding="utf-8"))


def read_yaml(path: Path, what: str) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML (or JSON) file; return the data and its node tree for line numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InputError(f"{what} {path}:{where}: {problem}") from None
    return data, node


def pointer(parts: Any) -> str:
    """RFC 6901 JSON pointer of a jsonschema error path."""
    out = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return out or "/"


def _line_of(node: yaml.Node | None, parts: list[Any]) -> int | None:
    """The 1-based YAML line of the value at ``parts``, or of its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if part < len(node.value) else None
        else:
            found = None
        if found is None:
            break
        node = found
        line = node.start_mark.line + 1
    return line


def describe_schema_error(err: jsonschema.ValidationError) -> str:
    """Say what was expected, without echoing the offending value (it may be a secret)."""
    v, s = err.validator, err.validator_value
    if v == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return f"unknown key {', '.join(map(repr, extra))} (allowed: {allowed})"
    if v == "required":
        missing = [k for k in s if k not in err.instance]
        return f"missing required key {', '.join(map(repr, missing))}"
    if v == "type":
        kinds = s if isinstance(s, list) else [s]
        return f"expected {' or '.join(kinds)}, got {type(err.instance).__name__}"
    if v == "enum":
        return f"expected one of {', '.join(map(repr, s))}"
    if v == "const":
        return f"expected {s!r}"
    if v == "pattern":
        return f"expected a string matching {s!r}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                 "exclusiveMaximum": "<"}
        return f"expected a number {words[v]} {s}"
    if v in ("minItems", "minLength"):
        return f"expected at least {s} {'item' if v == 'minItems' else 'character'}(s)"
    if v == "format":
        return f"expected a {s}"
    return f"does not satisfy {v!r}"


def validate(data: Any, schema_name: str, path: Path, what: str,
             node: yaml.Node | None = None) -> None:
    """Validate against a shipped schema; raise one InputError listing every problem."""
    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    lines = []
    for err in errors[:20]:
        parts = list(err.absolute_path)
        line = _line_of(node, parts)
        at = f" (line {line})" if line else ""
        lines.append(f"  {pointer(parts)}{at}: {describe_schema_error(err)}")
    more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
    raise InputError(f"{what} {path} does not match {schema_name}:\n" + "\n".join(lines) + more)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def fill_defaults(data: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """Return a copy of validated ``data`` with every documented default filled in."""
    schema = _resolve(schema, root)
    if isinstance(data, dict) and "properties" in schema:
        out = dict(data)
        for key, sub in schema["properties"].items():
            sub_r = _resolve(sub, root)
            if key not in out and "default" in sub_r:
                out[key] = copy.deepcopy(sub_r["default"])
            if key in out:
                out[key] = fill_defaults(out[key], sub_r, root)
        return out
    if isinstance(data, list) and "items" in schema:
        return [fill_defaults(item, schema["items"], root) for item in data]
    return data
