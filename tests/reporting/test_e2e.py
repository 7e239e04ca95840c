"""End to end without sandbox hosts: the real suite in a subprocess against closed ports.

Every host control of a target whose SSH port is closed errors with ``unreachable: ...``
within milliseconds, which is enough to exercise the reports, the gate, waivers, drift,
usage errors, sharding and merging exactly as a user runs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jada_checks.reporting import document
from tests.support.ci_outputs import sarif_errors
from tests.support.paths import REPO

ONLY_UNIT = ("-k", "JADA-UNIT-01")


@dataclass
class Result:
    code: int
    out: str
    report: dict[str, Any]


def profile(tmp_path: Path, names: tuple[str, ...] = ("web-1", "web-2"),
            comment: str = "") -> Path:
    (tmp_path / "known_hosts").touch()
    body = "".join(f"  - name: {n}\n    ssh: {{host: 127.0.0.1, port: 1, "
                   "known_hosts: known_hosts, connect_timeout: 2}\n" for n in names)
    path = tmp_path / "profile.yaml"
    path.write_text(f"{comment}version: 1\ntargets:\n{body}")
    return path


def suite(tmp_path: Path, prof: Path, *args: str, name: str = "r.json") -> Result:
    report = tmp_path / name
    env = {k: v for k, v in os.environ.items() if k != "JADA_PROFILE"}
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "--jada-profile", str(prof), "--jada-report-json", str(report), *args],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    data = json.loads(report.read_text()) if report.exists() else {}
    return Result(res.returncode, res.stdout + res.stderr, data)


def waivers(tmp_path: Path, expires: str = "2099-12-31") -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text("version: 1\nwaivers:\n  - control: JADA-UNIT-01\n    target: '*'\n"
                    f"    justification: hosts are being rebuilt (OPS-42)\n"
                    f"    expires: {expires}\n")
    return path


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_all_reports_written_and_valid(tmp_path: Path, xdist: tuple[str, ...]) -> None:
    md, page, junit = tmp_path / "r.md", tmp_path / "r.html", tmp_path / "j.xml"
    sarif, quality, prom = tmp_path / "r.sarif", tmp_path / "cq.json", tmp_path / "r.prom"
    r = suite(tmp_path, profile(tmp_path), "--jada-report-md", str(md),
              "--jada-report-html", str(page), "--junitxml", str(junit),
              "--jada-report-sarif", str(sarif), "--jada-report-codequality", str(quality),
              "--jada-report-metrics", str(prom), *xdist)
    assert r.code == 1, r.out
    assert document.schema_errors(r.report) == []
    # the CI outputs: one SARIF result, code-quality issue and metric sample per record
    # (all errors here), each at its target's line of the profile (lines 3 and 5)
    assert r.report["run"]["profile"]["target_lines"] == {"web-1": 3, "web-2": 5}
    log = json.loads(sarif.read_text())
    assert sarif_errors(log) == []
    results = log["runs"][0]["results"]
    assert len(results) == len(r.report["records"]) and {x["level"] for x in results} <= \
        {"error", "warning", "note"}
    assert {(x["properties"]["target"], x["locations"][0]["physicalLocation"]["region"]
             ["startLine"]) for x in results} == {("web-1", 3), ("web-2", 5)}
    issues = json.loads(quality.read_text())
    assert len(issues) == len(r.report["records"])
    assert {i["location"]["lines"]["begin"] for i in issues} == {3, 5}
    samples = [s for f in text_string_to_metric_families(prom.read_text())
               if f.name == "jada_check_outcome" for s in f.samples]
    assert sorted((s.labels["control"], s.labels["target"]) for s in samples) == sorted(
        (x["control"], x["target"]) for x in r.report["records"])
    assert r.report["run"]["targets"] == ["web-1", "web-2"]
    assert {x["target"] for x in r.report["unreachable"]} == {"web-1", "web-2"}
    for rec in r.report["records"]:
        assert rec["outcome"] == "error" and rec["message"].startswith("unreachable:")
    assert "## Unreachable targets" in md.read_text()
    # the cause's fix (the same ssh command, by hand) once per target, not per control
    ssh = "ssh -p 1 -o BatchMode=yes -o ConnectTimeout=2"
    assert r.out.count(ssh) == 2 and md.read_text().count(ssh) == 2, r.out
    assert "60-jada.conf" not in r.out + md.read_text()
    assert "<script>" in page.read_text()
    for line in ("UNREACHABLE web-1: unreachable: root@127.0.0.1:1",
                 "UNREACHABLE web-2: unreachable: root@127.0.0.1:1"):
        assert r.out.count(line) == 1, r.out
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert {(c.get("classname"), c.get("name")) for c in cases} == {
        ("unit", f"JADA-UNIT-0{i}[web-{n}]") for i in range(1, 6) for n in (1, 2)} | {
        (a, c.get("name")) for c in cases for a in ("fd", "lim", "net", "cfg")
        if c.get("name").startswith(f"JADA-{a.upper()}-")}
    assert "@" not in r.out.replace("root@", "").replace("ops@", "")  # no xdist group suffix
    props = [{p.get("name"): p.get("value") for p in c.iter("property")} for c in cases]
    assert props and all({"control", "severity", "target", "outcome"} <= set(p) for p in props)
    assert {p["outcome"] for p in props} == {"error"}
    assert "No such" not in r.out and "password" not in json.dumps(r.report).lower()


def test_waiver_turns_findings_into_waived_and_expiry_undoes_it(tmp_path: Path) -> None:
    prof = profile(tmp_path)
    r = suite(tmp_path, prof, "--jada-waivers", str(waivers(tmp_path)), *ONLY_UNIT)
    assert r.code == 0, r.out
    assert all(x["waiver"]["status"] == "applied" for x in r.report["records"])
    assert r.report["gate"]["waived"] == 2 and re.search(r"JADA-UNIT-01\s+WAIVED\s+WAIVED", r.out)
    r = suite(tmp_path, prof, "--jada-waivers", str(waivers(tmp_path, "2020-01-01")), *ONLY_UNIT)
    assert r.code == 1, r.out
    assert [w["expires"] for w in r.report["waivers"]["expired"]] == ["2020-01-01"]
    assert "waiver EXPIRED 2020-01-01" in r.out


def test_stale_waiver_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("version: 1\nwaivers:\n  - {control: JADA-UNIT-01, target: gone, "
                    "justification: decommissioned, expires: 2099-01-01}\n")
    r = suite(tmp_path, profile(tmp_path), "--jada-waivers", str(path), *ONLY_UNIT)
    assert [w["target"] for w in r.report["waivers"]["stale"]] == ["gone"]
    assert "waiver STALE: JADA-UNIT-01 on gone" in r.out


@pytest.mark.parametrize(("args", "words"), [
    (("--jada-fail-on", "severe"), "invalid choice"),
    (("--jada-retry-timeout", "soon"), "--jada-retry-timeout: 'soon' is not a duration"),
    (("--jada-shard", "3/2"), "--jada-shard: '3/2': need 1 <= I <= N"),
    (("--jada-fail-on-drift",), "--jada-fail-on-drift needs --jada-baseline"),
    (("--jada-retry-timeout", "2", "mins"), "'2' is followed by a stray argument 'mins'; "
     "quote the whole duration (--jada-retry-timeout '2 mins')"),
])
def test_usage_errors_exit_4(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    r = suite(tmp_path, profile(tmp_path), *args)
    assert r.code == 4 and words in r.out, r.out
    assert "gate PASSED" not in r.out and not r.report, r.out


def test_severity_is_case_insensitive_and_spelled_durations_run(tmp_path: Path) -> None:
    r = suite(tmp_path, profile(tmp_path), "--jada-fail-on", "HIGH",
              "--jada-retry-timeout", "1 sec", *ONLY_UNIT)
    assert r.code == 1 and r.report["run"]["options"] == dict(
        r.report["run"]["options"], fail_on="high", retry_timeout=1.0), r.out


def test_bad_waivers_file_exits_4_naming_file_and_pointer(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("version: 1\nwaivers:\n  - control: JADA-UNIT-01\n    target: web-1\n"
                    "    expires: 2099-01-01\n")
    r = suite(tmp_path, profile(tmp_path), "--jada-waivers", str(path))
    assert r.code == 4
    assert f"waivers {path}" in r.out and "/waivers/0 (line 3): missing required key " \
        "'justification'" in r.out


def test_report_option_without_profile_exits_4(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "--jada-baseline", "x.json", str(tmp_path)], capture_output=True,
                         text=True, cwd=REPO, timeout=60,
                         env={k: v for k, v in os.environ.items() if k != "JADA_PROFILE"})
    assert res.returncode == 4 and "--jada-baseline needs a profile" in res.stderr


def test_nothing_selected_exits_5_and_says_so(tmp_path: Path) -> None:
    md = tmp_path / "r.md"
    r = suite(tmp_path, profile(tmp_path), "-k", "no-such-control", "--jada-report-md", str(md))
    assert r.code == 5 and r.report["run"]["exit_status"] == 5
    assert "gate PASSED" not in r.out + md.read_text(), r.out
    assert "NOTHING SELECTED (exit 5): no control matched the selection" in r.out
    assert document.schema_errors(r.report) == []


def test_drift_and_fail_on_drift(tmp_path: Path) -> None:
    prof = profile(tmp_path)
    first = suite(tmp_path, prof, *ONLY_UNIT, name="base.json")
    base = tmp_path / "base.json"
    same = suite(tmp_path, prof, "--jada-baseline", str(base), *ONLY_UNIT)
    assert same.report["gate"]["drift_changes"] == 0, same.out
    # Pretend the baseline passed: now both targets are newly erroring.
    for rec in first.report["records"]:
        rec.update(outcome="pass", message="ok", observed="ActiveState=active")
    base.write_text(json.dumps(first.report))
    w = ("--jada-waivers", str(waivers(tmp_path)))
    r = suite(tmp_path, prof, "--jada-baseline", str(base), *w, *ONLY_UNIT)
    assert r.code == 0, r.out
    assert [e["target"] for e in r.report["drift"]["newly_erroring"]] == ["web-1", "web-2"]
    assert document.schema_errors(r.report) == []
    r = suite(tmp_path, prof, "--jada-baseline", str(base), "--jada-fail-on-drift", *w, *ONLY_UNIT)
    assert r.code == 1 and "2 drift change(s) with --jada-fail-on-drift" in r.out


def test_baseline_of_another_profile_or_version_is_refused(tmp_path: Path) -> None:
    prof = profile(tmp_path)
    suite(tmp_path, prof, *ONLY_UNIT, name="base.json")
    base = tmp_path / "base.json"
    # Comments and connection details do not matter; targets and expectations do.
    other = tmp_path / "other"
    other.mkdir()
    assert suite(other, profile(other, comment="# reformatted\n"), "--jada-baseline", str(base),
                 *ONLY_UNIT).code == 1
    r = suite(other, profile(other, names=("web-1", "web-3")), "--jada-baseline", str(base))
    assert r.code == 4 and "different profile" in r.out and str(base) in r.out
    data = json.loads(base.read_text())
    data["report_version"] = 2
    base.write_text(json.dumps(data))
    r = suite(tmp_path, prof, "--jada-baseline", str(base))
    assert r.code == 4 and "/report_version: is 2" in r.out


def test_retry_timeout_records_attempts_and_is_bounded(tmp_path: Path) -> None:
    r = suite(tmp_path, profile(tmp_path), "--jada-retry-timeout", "3s", *ONLY_UNIT)
    attempts = [x["attempts"] for x in r.report["records"]]
    assert r.code == 1 and attempts[0] >= 2, attempts
    assert r.report["run"]["duration"] < 20
    assert r.report["run"]["options"]["retry_timeout"] == 3


def test_shards_merge_into_the_whole_run(tmp_path: Path) -> None:
    prof = profile(tmp_path, names=("c", "a", "d", "b", "e"))
    parts = [suite(tmp_path, prof, "--jada-shard", f"{i}/2", name=f"s{i}.json") for i in (1, 2)]
    assert [p.report["run"]["targets"] for p in parts] == [["c", "a", "e"], ["d", "b"]]
    out = tmp_path / "all.json"
    cmd = [sys.executable, "-m", "jada_checks.cli", "merge-reports", str(out),
           str(tmp_path / "s1.json"), str(tmp_path / "s2.json")]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert res.returncode == 1, res.stderr  # the merged gate fails like a whole run would
    merged = document.read(out, "merged")
    assert sorted(merged["run"]["targets"]) == ["a", "b", "c", "d", "e"]
    whole = suite(tmp_path, prof, name="whole.json")
    key = [(r["target"], r["control"], r["outcome"]) for r in whole.report["records"]]
    assert [(r["target"], r["control"], r["outcome"]) for r in merged["records"]] == key
    assert merged["gate"]["exit_code"] == whole.report["gate"]["exit_code"]


def test_empty_shard_exits_0_with_an_empty_report(tmp_path: Path) -> None:
    r = suite(tmp_path, profile(tmp_path), "--jada-shard", "3/3")
    assert r.code == 0, r.out
    assert r.report["records"] == [] and r.report["run"]["targets"] == []
