"""The JSON report document: building, finishing, validating and reading it back.

The format is ``schemas/report.schema.json``, versioned by ``report_version``. A report is
also a baseline for drift and an input of ``merge-reports``, so reading one back checks
the version first (a clear refusal) and then the schema.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema

from jada_checks.inputs import InputError, load_schema, validate
from jada_checks.model import REGISTRY
from jada_checks.profile import Profile
from jada_checks.reporting.gate import decide

REPORT_VERSION = 1
SCHEMA = "report.schema.json"
UNREACHABLE = "unreachable:"


def fingerprint(profile: Profile) -> str:
    """sha256 of what decides the outcomes: target names, their sides and expectations.

    Unlike the file digest it ignores comments, formatting and connection details (address,
    port, key paths, timeouts), so a baseline survives a re-formatted profile or a host
    moving, but not a changed expectation or target list.
    """
    body = [{"name": t.name, "ssh": t.ssh is not None, "lightsail": t.lightsail is not None,
             "expect": t.expect} for t in sorted(profile.targets, key=lambda t: t.name)]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def summarize(records: list[dict[str, Any]]) -> dict[str, int]:
    counts = {k: 0 for k in ("pass", "fail", "error", "skipped")}
    for r in records:
        counts[r["outcome"]] += 1
    counts["waived"] = sum(1 for r in records
                           if r.get("waiver") and r["waiver"]["status"] == "applied")
    counts["total"] = len(records)
    return counts


def is_host_side(rec: dict[str, Any]) -> bool:
    """Host (SSH) side: from the registry when loaded, else by area (Lightsail is ``ls``,
    the runner's probes ``http``).
    No catalogue import, so merging reports works without loading the controls."""
    if "side" in rec:  # one of your own checks: host when it used the host fixture
        return bool(rec["side"] == "host")
    control = REGISTRY.get(rec["control"])
    return control.side == "host" if control else rec["area"] not in ("ls", "http")


def unreachable(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Targets whose host controls all errored with an ``unreachable:`` reason."""
    by_target: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if is_host_side(r):
            by_target.setdefault(r["target"], []).append(r)
    out = []
    for target, recs in sorted(by_target.items()):
        if recs and all(r["outcome"] == "error" and r["message"].startswith(UNREACHABLE)
                        for r in recs):
            reasons = [r["message"] for r in recs]
            out.append({"target": target, "reason": max(set(reasons), key=reasons.count),
                        "controls": len(recs)})
    return out


def finish(doc: dict[str, Any]) -> dict[str, Any]:
    """(Re)compute the derived sections from records: summary, unreachable and gate."""
    doc["records"].sort(key=lambda r: (r["target"], r["control"]))
    doc["summary"] = summarize(doc["records"])
    doc["unreachable"] = unreachable(doc["records"])
    opts = doc["run"]["options"]
    doc["gate"] = decide(doc["records"], opts["fail_on"], drift=doc.get("drift"),
                         fail_on_drift=opts["fail_on_drift"],
                         unrecorded=doc["run"]["unrecorded"],
                         undiscovered=undiscovered(doc["run"].get("discovery")))
    return doc


def undiscovered(discovery: dict[str, Any] | None) -> list[str] | None:
    """What Lightsail discovery could not look at (None without discovery)."""
    if discovery is None:
        return None
    if "error" in discovery:
        return [discovery["error"]]
    out = [f"{r}: {g['error']}" for r, g in discovery["regions"].items() if "error" in g]
    return out + [f"{n}: no public IP" for n in discovery.get("no_public_ip", [])]


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Every way ``doc`` departs from the report schema (empty when valid)."""
    v = jsonschema.Draft202012Validator(load_schema(SCHEMA))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def write(doc: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def read(path: str | Path, what: str) -> dict[str, Any]:
    """Read a JSON report (a baseline, a shard); InputError says why it cannot be used."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} {path}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
    version = data.get("report_version") if isinstance(data, dict) else None
    if version != REPORT_VERSION:
        raise InputError(f"{what} {path}: /report_version: is {version!r}; this suite "
                         f"reads report_version {REPORT_VERSION} (produce it again with "
                         "this version of jada-checks)")
    validate(data, SCHEMA, path, what)
    return data
