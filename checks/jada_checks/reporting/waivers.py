"""Waivers: accepted findings, each with a justification and an expiry date.

A waiver names a control and a target (``"*"`` for every target). It applies to a *finding*
(fail or error) until the end of its expiry day (UTC); after that it stops applying and the
reports say it expired, so an accepted risk cannot be forgotten. A waiver that waives no
finding in the run is *stale*: the problem is gone (or the IDs are wrong) and it can go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from jada_checks.inputs import InputError, read_yaml, validate
from jada_checks.inputs import _line_of as line_of

SCHEMA = "waivers.schema.json"
NO_MATCH = "matches no control and target in this run"


@dataclass(frozen=True)
class Waiver:
    control: str
    target: str
    justification: str
    expires: dt.date
    ticket: str | None = None

    def matches(self, rec: dict[str, Any]) -> bool:
        return rec["control"] == self.control and self.target in ("*", rec["target"])

    def expired(self, today: dt.date) -> bool:
        """Valid through its expiry day; expired from the day after."""
        return today > self.expires

    def as_dict(self, status: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"control": self.control, "target": self.target,
                               "justification": self.justification,
                               "expires": self.expires.isoformat()}
        if self.ticket:
            out["ticket"] = self.ticket
        if status:
            out["status"] = status
        return out


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _dates_to_text(data: Any) -> Any:
    """YAML reads 2025-01-31 as a date; the schema speaks of strings."""
    if isinstance(data, dict):
        return {k: _dates_to_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_dates_to_text(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def bad_date(path: Path) -> str | None:
    """JSON pointer and line of the first YAML date that is not a calendar date: PyYAML
    fails such a scalar while constructing, without saying where; its node tree knows."""
    import yaml

    def walk(node: yaml.Node, parts: list[str]) -> str | None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                found = walk(v, [*parts, str(k.value)])
                if found:
                    return found
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                found = walk(v, [*parts, str(i)])
                if found:
                    return found
        elif node.tag == "tag:yaml.org,2002:timestamp":
            try:
                yaml.SafeLoader(node.value).construct_yaml_timestamp(
                    cast(yaml.ScalarNode, node))
            except ValueError:
                return f"/{'/'.join(parts)} (line {node.start_mark.line + 1}): {node.value!r}"
        return None

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    return walk(root, []) if root is not None else None


def load_waivers(path: str | Path) -> list[Waiver]:
    """Read and validate a waivers file; InputError names the file and JSON pointer."""
    path = Path(path)
    try:
        data, node = read_yaml(path, "waivers")
    except ValueError as exc:  # YAML's own date parsing, e.g. 2025-02-30
        raise InputError(f"waivers {path}: {bad_date(path) or 'invalid date'}: {exc} "
                         "(a calendar date, YYYY-MM-DD)") from None
    data = _dates_to_text(data)
    validate(data, SCHEMA, path, "waivers", node)
    out = []
    for i, w in enumerate(data["waivers"]):
        try:
            expires = dt.date.fromisoformat(w["expires"])
        except ValueError:
            line = line_of(node, ["waivers", i, "expires"])
            raise InputError(f"waivers {path}: /waivers/{i}/expires (line {line}): "
                             f"{w['expires']!r} is not a calendar date (YYYY-MM-DD)") from None
        out.append(Waiver(w["control"], w["target"], w["justification"].strip(), expires,
                          w.get("ticket")))
    return out


def select(rec: dict[str, Any], waivers: list[Waiver], today: dt.date) -> dict[str, Any] | None:
    """The waiver entry a finding carries: an active one if any (exact target before "*"),
    else an expired one so reports can say so; None for non-findings and unmatched."""
    if rec["outcome"] not in ("fail", "error"):
        return None
    found = sorted((w for w in waivers if w.matches(rec)),
                   key=lambda w: (w.expired(today), w.target == "*"))
    if not found:
        return None
    best = found[0]
    return best.as_dict("expired" if best.expired(today) else "applied")


def apply(records: list[dict[str, Any]], waivers: list[Waiver], today: dt.date,
          file: str | None) -> dict[str, Any]:
    """Set ``waiver`` on every record; return the report's waivers section."""
    used: set[Waiver] = set()
    for rec in records:
        rec["waiver"] = select(rec, waivers, today)
        if _applied(rec):
            used.update(w for w in waivers if w.matches(rec) and not w.expired(today))
    return {"file": file, "applied": sum(1 for r in records if _applied(r)),
            "expired": _expired(records, waivers, today),
            "stale": _stale(records, [w for w in waivers if w not in used], today)}


def _applied(rec: dict[str, Any]) -> bool:
    return bool(rec["waiver"]) and rec["waiver"]["status"] == "applied"


def _expired(records: list[dict[str, Any]], waivers: list[Waiver],
             today: dt.date) -> list[dict[str, Any]]:
    """Each expired waiver, with the findings it would cover if it were still valid."""
    return [dict(w.as_dict("expired"),
                 findings=sum(1 for r in records if r["outcome"] in ("fail", "error")
                              and w.matches(r)))
            for w in waivers if w.expired(today)]


def _stale(records: list[dict[str, Any]], unused: list[Waiver],
           today: dt.date) -> list[dict[str, Any]]:
    """Each valid waiver that waived nothing, and why: it matches nothing, or nothing it
    matches fails."""
    stale = []
    for w in unused:
        if w.expired(today):
            continue
        matched = any(w.matches(r) for r in records)
        reason = "the matched controls do not fail or error" if matched else NO_MATCH
        stale.append(dict(w.as_dict("stale"), reason=reason))
    return stale
