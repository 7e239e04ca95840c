"""Every anyOf/oneOf of the shipped schemas fails with a message naming its alternatives.

jsonschema alone says "does not satisfy 'anyOf'" (or echoes the value, which may be a
secret); ``inputs.describe_alternatives`` names each branch (its keys, its title, the
$defs entry it refers to) and why the value is none of them. One case per site, and a
guard that a new site in a schema gets a case here.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jada_checks.inputs import InputError, load_schema, validate
from jada_checks.profile import load_profile
from tests.support.reporting_support import doc, rec

SCHEMAS = sorted(p.name for p in resources.files("jada_checks.schemas").iterdir()
                 if p.name.endswith(".schema.json"))


def sites(node: Any, path: str = "") -> list[str]:
    """JSON pointers of every anyOf/oneOf in a schema."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("anyOf", "oneOf"):
                found.append(f"{path}/{key}")
            found += sites(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += sites(value, f"{path}/{i}")
    return found


def report() -> dict[str, Any]:
    """A valid report document, to break one field of."""
    out = doc([rec()])
    assert not list(jsonschema.Draft202012Validator(load_schema("report.schema.json"))
                    .iter_errors(out))
    return out


def with_(base: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    node = out
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[path[-1]] = value
    return out


BASELINE = {"path": "base.json", "finished": "2026-01-01T00:00:00Z", "suite_version": "0"}
ENTRY = {"target": "web-1", "control": "JADA-UNIT-01", "title": "t", "severity": "high",
         "outcome_from": None, "outcome_to": "fail", "observed_from": None, "observed_to": None}


def _report_cases() -> dict[str, tuple[str, dict[str, Any], str, str]]:
    r = report()
    regions = ["run", "discovery"]
    discovery = {"source": "lightsail", "tags": {}, "regions": {}, "targets": [],
                 "listed": [], "no_public_ip": []}
    return {
        "/properties/drift/oneOf": (
            "report.schema.json", with_(r, ["drift"], {"baseline": "x"}), "/drift",
            "expected exactly one of: null or a drift section ($defs/drift) (as a drift "
            "section: missing required key 'newly_failing'"),
        "/$defs/run/properties/discovery/properties/regions/additionalProperties/oneOf": (
            "report.schema.json",
            with_(r, regions, dict(discovery, regions={"us-east-1": {}})),
            "/run/discovery/regions/us-east-1",
            "expected exactly one of: an answered region {instances} or a failed region "
            "{error} (as an answered region {instances}: missing required key 'instances'; "
            "as a failed region {error}: missing required key 'error')"),
        "/$defs/run/properties/options/properties/shard/oneOf": (
            "report.schema.json", with_(r, ["run", "options", "shard"], "1-of-2"),
            "/run/options/shard",
            "expected exactly one of: null or a shard K/N (as a shard K/N: expected a "
            "string matching"),
        "/$defs/record/properties/waiver/oneOf": (
            "report.schema.json", with_(r, ["records", 0, "waiver"], {"control": "x"}),
            "/records/0/waiver",
            "expected exactly one of: null or a waiver ($defs/waiver) (as a waiver: missing "
            "required key 'target'"),
        "/$defs/drift_entry/properties/outcome_from/oneOf": (
            "report.schema.json",
            with_(r, ["drift"], {"baseline": BASELINE, "newly_failing": [
                dict(ENTRY, outcome_from="passed")],
                "newly_erroring": [], "resolved": [], "changed": [], "not_in_baseline": []}),
            "/drift/newly_failing/0/outcome_from",
            "expected exactly one of: null or an outcome ($defs/outcome) (as an outcome: "
            "expected one of 'pass', 'fail', 'error', 'skipped')"),
    }


# site -> (schema, document, JSON pointer of the error, message fragment)
CASES: dict[str, tuple[str, Any, str, str]] = {
    "/anyOf": ("profile.schema.json", {"version": 1}, "/",
               "expected at least one of the keys 'targets' (targets listed by hand) or "
               "'targets_from' (targets discovered from Lightsail): neither is present"),
    **_report_cases(),
}


def test_every_site_has_a_case() -> None:
    """A new anyOf/oneOf in a schema needs a case here (and a message that names it)."""
    found = {(name, site) for name in SCHEMAS for site in sites(load_schema(name))}
    assert found == {(schema, site) for site, (schema, *_) in CASES.items()}


@pytest.mark.parametrize("site", list(CASES))
def test_each_site_names_its_alternatives(site: str, tmp_path: Path) -> None:
    schema, data, where, message = CASES[site]
    with pytest.raises(InputError) as err:
        validate(data, schema, tmp_path / "x.json", "input")
    lines = [line.strip() for line in str(err.value).splitlines()[1:]]
    mine = [line for line in lines if line.split(" ", 1)[0].rstrip(":") == where]
    assert mine, (where, lines)
    assert message in mine[0], mine[0]
    assert "does not satisfy" not in str(err.value)


def test_oneof_matching_several_says_so(tmp_path: Path) -> None:
    """The other way a oneOf fails: the value is more than one alternative."""
    err = jsonschema.ValidationError
    from jada_checks.inputs import describe_schema_error

    schema = {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}
    e: err = next(jsonschema.Draft202012Validator(schema).iter_errors({"a": 1, "b": 2}))
    assert describe_schema_error(e) == ("expected exactly one of the keys 'a' or 'b', not "
                                        "several: 'a' and 'b' are all present")


def test_profile_without_targets_names_both_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text("version: 1\nexpect: {nofile_min: 1024}\n")
    with pytest.raises(InputError, match="'targets' .* or 'targets_from'"):
        load_profile(path)
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "--jada-profile", str(path)], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert res.returncode == 4, res.stdout + res.stderr
    assert (f"profile {path} does not match profile.schema.json:\n  / (line 1): expected at "
            "least one of the keys 'targets' (targets listed by hand) or 'targets_from' "
            "(targets discovered from Lightsail): neither is present") in res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert "anyOf" not in res.stdout + res.stderr


def test_merge_reports_names_the_alternatives_without_a_traceback(tmp_path: Path) -> None:
    shard = tmp_path / "shard.json"
    shard.write_text(json.dumps(with_(report(), ["run", "options", "shard"], "1-of-2")))
    res = subprocess.run([sys.executable, "-m", "jada_checks.cli", "merge-reports",
                          str(tmp_path / "out.json"), str(shard)],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert ("/run/options/shard: expected exactly one of: null or a shard K/N (as a shard "
            "K/N: expected a string matching") in out
    assert "Traceback" not in out and "oneOf" not in out
