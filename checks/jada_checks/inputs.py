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


def describe_schema_error(err: jsonschema.ValidationError,
                          root: dict[str, Any] | None = None) -> str:
    """Say what was expected, without echoing the offending value (it may be a secret).

    ``root`` (the whole schema) lets an anyOf/oneOf branch that is a ``$ref`` be named by
    the title of what it refers to."""
    text = _describe(err, root)
    # A rule that holds only under a condition (if/then/else) says which, from the
    # subschema's own description: "expected a number >= 0" alone would not.
    if {"then", "else"} & set(map(str, err.relative_schema_path)) \
            and isinstance(err.schema, dict) and err.schema.get("description"):
        text += f"; {err.schema['description']}"
    return text


def _describe(err: jsonschema.ValidationError, root: dict[str, Any] | None) -> str:
    v, s = err.validator, err.validator_value
    if v in ("anyOf", "oneOf"):
        return describe_alternatives(err, root)
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


def _required_only(branch: Any) -> list[str] | None:
    """The keys of a branch that only requires keys (plus annotations), else None."""
    if not isinstance(branch, dict) or not branch.get("required"):
        return None
    if set(branch) - {"required", "title", "description", "$comment"}:
        return None
    return list(branch["required"])


def branch_label(branch: Any, root: dict[str, Any] | None = None) -> str:
    """A short name for one anyOf/oneOf alternative: its title, else what it is made of."""
    if not isinstance(branch, dict):
        return "anything" if branch is True else "nothing"
    if branch.get("title"):
        return str(branch["title"])
    ref = branch.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        title = target.get("title") if isinstance(target, dict) else None
        return f"{title} ({ref[2:]})" if title else ref[2:]
    keys = _required_only(branch)
    if keys:
        return " and ".join(map(repr, keys))
    parts = []
    if "type" in branch:
        kinds = branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
        parts.append(" or ".join(kinds))
    if "const" in branch:
        parts.append(repr(branch["const"]))
    if "enum" in branch:
        parts.append("one of " + ", ".join(map(repr, branch["enum"])))
    if "pattern" in branch:
        parts.append(f"matching {branch['pattern']!r}")
    if branch.get("required"):
        parts.append("with " + ", ".join(map(repr, branch["required"])))
    return " ".join(parts) or "an alternative"


def describe_alternatives(err: jsonschema.ValidationError,
                          root: dict[str, Any] | None = None) -> str:
    """anyOf/oneOf: name every alternative, and why the value is none of them (or, for
    oneOf, more than one), instead of jsonschema's "does not satisfy 'anyOf'"."""
    branches = list(err.validator_value)
    labels = [branch_label(b, root) for b in branches]
    how = "exactly one of" if err.validator == "oneOf" else "at least one of"
    keyed = [_required_only(b) for b in branches]
    if err.validator == "oneOf" and not err.context:  # valid under more than one
        return _several_match(err, how, labels, keyed)
    if all(keyed):  # every alternative is "has these keys": say which are missing
        return _no_keys_present(how, labels, branches)
    reasons = [reason for i, label in enumerate(labels)
               if (reason := _branch_reason(err, i, label, branches[i], root))]
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return f"expected {how}: {_or(labels)}{why}"


def _several_match(err: jsonschema.ValidationError, how: str, labels: list[str],
                   keyed: list[list[str] | None]) -> str:
    """A oneOf the value satisfies more than once: for key alternatives, name the keys
    present together, since that is what the user has to remove."""
    if all(keyed) and isinstance(err.instance, dict):
        present = [k for ks in keyed if ks for k in ks if k in err.instance]
        return (f"expected {how} the keys {_or(labels)}, not several: "
                f"{' and '.join(map(repr, present))} are all present")
    return f"expected {how}: {_or(labels)}; the value matches more than one"


def _no_keys_present(how: str, labels: list[str], branches: list[Any]) -> str:
    """Every alternative only requires keys and none is there: list the keys, each with
    its description, because the user has to pick one to add."""
    shown = [f"{label} ({b['description']})" if isinstance(b, dict)
             and b.get("description") else label for label, b in zip(labels, branches,
                                                                      strict=True)]
    none = "neither is present" if len(branches) == 2 else "none is present"
    return f"expected {how} the keys {_or(shown)}: {none}"


def _branch_reason(err: jsonschema.ValidationError, i: int, label: str, branch: Any,
                   root: dict[str, Any] | None) -> str | None:
    """Why the value is not alternative ``i`` (its first three errors), or None when
    nothing says more than the label does."""
    mine = [e for e in err.context if e.relative_schema_path
            and e.relative_schema_path[0] == i]
    if not mine:
        return None
    branch = branch if isinstance(branch, dict) else {}
    whys = [why for sub in sorted(mine, key=lambda e: list(map(str, e.relative_path)))[:3]
            if (why := _sub_reason(sub, branch, root)) is not None]
    if len(mine) > 3:
        whys.append(f"and {len(mine) - 3} more")
    if not whys:
        return None
    return f"as {label.split(' ($defs/')[0]}: {', '.join(whys)}"


def _sub_reason(sub: jsonschema.ValidationError, branch: dict[str, Any],
                root: dict[str, Any] | None) -> str | None:
    """One error inside an alternative, at its pointer; None when it only repeats the
    label ("expected null, got dict" under the label "null" says nothing new)."""
    where = pointer(list(sub.relative_path)) if sub.relative_path else ""
    if not where and sub.validator in ("type", "const", "enum") \
            and sub.validator in branch and not branch.get("title"):
        return None
    return f"{(where + ': ') if where else ''}{describe_schema_error(sub, root)}"


def unwrap(err: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors to report for ``err``: an anyOf/oneOf whose value has the type of only
    one alternative (``oneOf: [null, $ref]`` given an object) and breaks it only inside
    is that alternative's own errors, each at its own, deeper pointer; any other error is
    itself (and names the alternatives)."""
    if err.validator not in ("anyOf", "oneOf") or not err.context:
        return [err]
    typed = [i for i in range(len(err.validator_value))
             if not any(e.relative_schema_path and e.relative_schema_path[0] == i
                        and not e.relative_path and e.validator == "type"
                        for e in err.context)]
    if len(typed) != 1:
        return [err]
    mine = [e for e in err.context if e.relative_schema_path
            and e.relative_schema_path[0] == typed[0]]
    if any(not e.relative_path for e in mine):
        return [err]
    return [leaf for e in mine for leaf in unwrap(e)]


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def validate(data: Any, schema_name: str, path: Path, what: str,
             node: yaml.Node | None = None) -> None:
    """Validate against a shipped schema; raise one InputError listing every problem."""
    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted((leaf for err in validator.iter_errors(data) for leaf in unwrap(err)),
                    key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    lines = []
    for err in errors[:20]:
        parts = list(err.absolute_path)
        line = _line_of(node, parts)
        at = f" (line {line})" if line else ""
        lines.append(f"  {pointer(parts)}{at}: {describe_schema_error(err, schema)}")
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
