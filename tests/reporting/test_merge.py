"""Merging shard reports: one valid report whose gate is computed over all records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jada_checks.reporting import document
from jada_checks.reporting.merge import MergeError, merge, merge_files
from tests.support.reporting_support import doc, rec


def shards() -> list[tuple[str, dict]]:
    a = doc([rec(target="a", outcome="pass"), rec(target="c", severity="medium")],
            targets=["a", "c"], shard="1/2", fail_on="high")
    b = doc([rec(target="b", outcome="pass")], targets=["b"], shard="2/2", fail_on="high")
    return [("s1.json", a), ("s2.json", b)]


def test_merge_is_a_valid_report_with_recomputed_gate() -> None:
    m = merge(shards())
    assert document.schema_errors(m) == []
    assert m["run"]["targets"] == ["a", "b", "c"]
    assert [(r["target"], r["outcome"]) for r in m["records"]] == [
        ("a", "pass"), ("b", "pass"), ("c", "fail")]
    assert m["gate"]["passed"] and m["gate"]["below_threshold"] == 1
    assert m["run"]["options"]["shard"] is None
    assert [x["shard"] for x in m["run"]["merged_from"]] == ["1/2", "2/2"]
    assert m["summary"]["total"] == 3


def test_merge_gate_fails_when_any_shard_has_a_blocking_finding() -> None:
    parts = shards()
    parts[1][1]["records"][0]["outcome"] = "error"
    assert merge(parts)["gate"]["exit_code"] == 1


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d["run"]["targets"].append("a"), "in both"),
    (lambda d: d["run"]["profile"].update(fingerprint="f" * 64), "different profile"),
    (lambda d: d["run"]["options"].update(fail_on="low"), "--jada-fail-on differs"),
    (lambda d: d.update(drift={}), "some reports only"),
])
def test_merge_refuses_incompatible_shards(change, words: str) -> None:
    parts = shards()
    change(parts[1][1])
    with pytest.raises(MergeError, match=words):
        merge(parts)


def test_stale_waiver_only_when_stale_in_every_shard() -> None:
    parts = shards()
    here = {"control": "JADA-UNIT-01", "target": "b", "justification": "j",
            "expires": "2099-01-01", "status": "stale",
            "reason": "matches no control and target in this run"}
    nowhere = dict(here, control="JADA-CFG-01")
    parts[0][1]["waivers"]["stale"] = [here, nowhere]
    parts[1][1]["waivers"]["stale"] = [nowhere]
    assert [w["control"] for w in merge(parts)["waivers"]["stale"]] == ["JADA-CFG-01"]


def test_merge_files_writes_and_exits_with_the_gate(tmp_path: Path) -> None:
    paths = []
    for name, d in shards():
        paths.append(str(tmp_path / name))
        Path(paths[-1]).write_text(json.dumps(d))
    out, md = tmp_path / "all.json", tmp_path / "all.md"
    assert merge_files(str(out), paths, md=str(md)) == 0
    assert document.read(out, "merged")["run"]["targets"] == ["a", "b", "c"]
    assert "### c" in md.read_text()
    assert merge_files(str(out), [paths[0], paths[0]]) == 2


def test_a_region_one_shard_could_not_discover_fails_the_merged_gate() -> None:
    (n1, a), (n2, b) = shards()
    ok = {"source": "lightsail", "tags": {}, "regions": {"us-east-1": {"instances": ["a"]}}}
    bad = {**ok, "regions": {**ok["regions"], "eu-west-2": {"error": "AccessDenied"}}}
    a["run"]["discovery"], b["run"]["discovery"] = ok, bad
    m = merge([(n1, document.finish(a)), (n2, document.finish(b))])
    assert document.schema_errors(m) == []
    assert m["run"]["discovery"] == bad
    assert not m["gate"]["passed"] and m["gate"]["undiscovered"] == ["eu-west-2: AccessDenied"]
