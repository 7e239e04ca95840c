"""The reports CI systems read: SARIF 2.1.0 (validated against the official schema),
GitHub annotations, GitLab code quality and Prometheus metrics (parsed back with
prometheus_client's own parser), all rendered from a real report document.

The runs against real hosts are elsewhere: drifted's SARIF in tests/controls/test_host_controls.py,
closed ports in tests/reporting/test_e2e.py, the Action in tests/ci/test_action.py, the
GitLab component in tests/ci/test_gitlab_local.py, the wheel in tests/test_wheel.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jada_checks import cli
from jada_checks.controls import catalogue
from jada_checks.profile import load_profile
from jada_checks.reporting import annotations, codequality, metrics, sarif
from tests.support.ci_outputs import sarif_errors
from tests.support.reporting_support import doc, rec

WAIVER = {"control": "JADA-NET-01", "target": "web-2", "justification": "rebuild, OPS-7",
          "expires": "2099-01-01", "status": "applied"}


def sample_doc(root: Path) -> dict[str, Any]:
    """Two targets: a failing critical, an erroring medium with a host file as source, a
    waived high, a failing low below fail-on high, and passes."""
    records = [
        rec(control="JADA-UNIT-01", target="web-1", outcome="fail", severity="critical",
            message="jada-agent.service is inactive (dead)"),
        rec(control="JADA-NET-02", target="web-1", outcome="error", severity="medium",
            message="cannot read /etc/sysctl.d: permission denied",
            source="/etc/sysctl.d/60-jada.conf:2"),
        rec(control="JADA-NET-01", target="web-2", outcome="fail", severity="high",
            waiver=WAIVER),
        rec(control="JADA-UNIT-05", target="web-2", outcome="fail", severity="low",
            message="exposure 9.6 > 9.2,\nsee systemd-analyze"),
        rec(control="JADA-CFG-04", target="web-1", outcome="pass", severity="info"),
        rec(control="JADA-CFG-04", target="web-2", outcome="pass", severity="info"),
    ]
    d = doc(records, fail_on="medium")
    d["run"]["profile"].update(path=str(root / "deploy" / "prod.yaml"),
                               target_lines={"web-1": 4, "web-2": 9})
    d["run"]["exit_status"] = d["gate"]["exit_code"]
    return d


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    return tmp_path


def test_profile_keeps_the_line_of_every_target(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("# prod\nversion: 1\ntargets:\n"
                    "  - name: web-1\n    ssh: {host: 127.0.0.1}\n"
                    "  # the second one\n"
                    "  - ssh: {host: 127.0.0.2}\n    name: web-2\n"
                    "targets_from:\n  lightsail:\n    regions: [us-east-1]\n"
                    "    ssh: {user: ops}\n    overrides:\n      jada-7: {ssh: {port: 2222}}\n")
    prof = load_profile(path)
    assert [prof.line_of(n) for n in ("web-1", "web-2", "jada-7", "jada-8")] == [4, 7, 14, 10]


def test_sarif_validates_against_the_official_schema(root: Path) -> None:
    log = json.loads(sarif.render(sample_doc(root)))
    assert sarif_errors(log) == []
    assert log["version"] == "2.1.0" and log["$schema"] == sarif.SCHEMA_URI
    # the control: a broken log is refused by the same validator
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert any("fatal" in e for e in sarif_errors(log))


def test_sarif_has_one_rule_per_control_with_its_severity(root: Path) -> None:
    run = json.loads(sarif.render(sample_doc(root)))["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert sorted(rules) == ["JADA-CFG-04", "JADA-NET-01", "JADA-NET-02", "JADA-UNIT-01",
                             "JADA-UNIT-05"]
    known = {c.id: c for c in catalogue()}
    for rid, r in rules.items():
        c = known[rid]
        assert r["shortDescription"]["text"] == c.title
        assert r["help"]["text"] == c.remediation and c.rationale in r["help"]["markdown"]
        assert r["fullDescription"]["text"][:500] == c.rationale[:500]
        assert len(r["fullDescription"]["text"]) <= 1024  # GitHub's limit
        assert r["defaultConfiguration"]["level"] == sarif.LEVEL[c.severity]
        assert r["properties"]["severity"] == c.severity
    assert rules["JADA-UNIT-01"]["properties"]["security-severity"] == "9.5"  # critical
    assert "security" in rules["JADA-UNIT-01"]["properties"]["tags"]
    info = rules["JADA-CFG-04"]["properties"]
    assert known["JADA-CFG-04"].severity == "info"
    assert "security-severity" not in info and "security" not in info["tags"]
    scores = {s: float(v) for s, v in sarif.SECURITY_SEVERITY.items()}
    # GitHub's bands: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low
    assert scores["critical"] > 9.0 and 7.0 <= scores["high"] < 9.0
    assert 4.0 <= scores["medium"] < 7.0 and 0.1 <= scores["low"] < 4.0


def test_sarif_has_one_result_per_failing_or_erroring_control_and_target(root: Path) -> None:
    run = json.loads(sarif.render(sample_doc(root)))["runs"][0]
    got = {(r["ruleId"], r["properties"]["target"]): r for r in run["results"]}
    assert sorted(got) == [("JADA-NET-01", "web-2"), ("JADA-NET-02", "web-1"),
                           ("JADA-UNIT-01", "web-1"), ("JADA-UNIT-05", "web-2")]
    crit = got[("JADA-UNIT-01", "web-1")]
    assert crit["level"] == "error"
    assert crit["message"]["text"] == "web-1: jada-agent.service is inactive (dead)"
    loc = crit["locations"][0]
    assert loc["physicalLocation"] == {
        "artifactLocation": {"uri": "deploy/prod.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 4}}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.as_uri() + "/"
    assert loc["logicalLocations"] == [{"name": "web-1", "fullyQualifiedName": "web-1",
                                        "kind": "host"}]
    err = got[("JADA-NET-02", "web-1")]
    assert err["message"]["text"].startswith("web-1: not checked: cannot read /etc/sysctl.d")
    assert err["level"] == "warning" and err["properties"]["outcome"] == "error"
    assert err["locations"][0]["logicalLocations"][1] == {
        "name": "/etc/sysctl.d/60-jada.conf:2", "kind": "file",
        "fullyQualifiedName": "web-1:/etc/sysctl.d/60-jada.conf:2"}
    waived = got[("JADA-NET-01", "web-2")]
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "waived until 2099-01-01: rebuild, OPS-7"}]
    assert waived["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
    assert "suppressions" not in crit
    # the same finding keeps its fingerprint when its observed value changes
    again = sample_doc(root)
    again["records"][0]["message"] = "something else"
    later = json.loads(sarif.render(again))["runs"][0]["results"]
    assert crit["partialFingerprints"] in [r["partialFingerprints"] for r in later]


def test_sarif_of_a_profile_outside_the_repository_is_an_absolute_uri(
        root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    d = sample_doc(tmp_path_factory.mktemp("elsewhere"))
    log = json.loads(sarif.render(d))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": Path(d["run"]["profile"]["path"]).as_uri()}
    assert sarif_errors(log) == []


def test_annotations_error_for_the_gate_warning_below_it(root: Path) -> None:
    out = annotations.lines(sample_doc(root))
    assert out[0] == ("::error file=deploy/prod.yaml,line=4,title=JADA-UNIT-01 title of "
                      "JADA-UNIT-01 [web-1]::jada-agent.service is inactive (dead)")
    assert out[1].startswith("::error file=deploy/prod.yaml,line=4,title=JADA-NET-02 ")
    assert out[1].endswith("::not checked: cannot read /etc/sysctl.d: permission denied")
    # waived and below the threshold: warnings saying why; newline and % escaped
    assert ("::warning file=deploy/prod.yaml,line=9,title=JADA-NET-01 title of JADA-NET-01 "
            "[web-2]::JADA-NET-01 is fail (waived until 2099-01-01: rebuild, OPS-7)") in out
    assert ("::warning file=deploy/prod.yaml,line=9,title=JADA-UNIT-05 title of JADA-UNIT-05 "
            "[web-2]::exposure 9.6 > 9.2,%0Asee systemd-analyze (low: below fail-on medium, "
            "reported only)") in out
    assert len(out) == 4
    assert annotations.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotations_command(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = root / "report.json"
    report.write_text(json.dumps(sample_doc(root)))
    assert cli.main(["annotations", str(report)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == annotations.lines(sample_doc(root))
    (root / "bad.json").write_text("{")
    assert cli.main(["annotations", str(root / "bad.json")]) == 2
    err = capsys.readouterr().err
    assert "bad.json: line 1: not valid JSON" in err and "Traceback" not in err


def test_codequality_issues(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE")
    monkeypatch.setenv("CI_PROJECT_DIR", str(root))
    issues = json.loads(codequality.render(sample_doc(root)))
    assert [(i["check_name"], i["severity"]) for i in issues] == [
        ("JADA-UNIT-01", "blocker"), ("JADA-NET-02", "major"), ("JADA-UNIT-05", "minor")]
    first = issues[0]
    assert set(first) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert first["location"] == {"path": "deploy/prod.yaml", "lines": {"begin": 4}}
    assert first["description"] == ("JADA-UNIT-01 title of JADA-UNIT-01 [web-1]: "
                                     "jada-agent.service is inactive (dead)")
    assert issues[1]["description"].endswith("not checked: cannot read /etc/sysctl.d: "
                                             "permission denied")
    assert len({i["fingerprint"] for i in issues}) == 3  # unique per control x target
    assert set(codequality.SEVERITY.values()) == {"info", "minor", "major", "critical",
                                                  "blocker"}


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_parse_back_with_one_sample_per_control_and_target(root: Path) -> None:
    d = sample_doc(root)
    fams = families(metrics.render(d))
    outcome = fams["jada_check_outcome"]
    assert outcome.type == "gauge"
    samples = {(s.labels["control"], s.labels["target"]): s for s in outcome.samples}
    assert len(samples) == len(outcome.samples) == len(d["records"])
    assert samples[("JADA-UNIT-01", "web-1")].labels == {
        "control": "JADA-UNIT-01", "target": "web-1", "severity": "critical", "area": "unit",
        "outcome": "fail", "waived": "false"}
    assert samples[("JADA-NET-01", "web-2")].labels["waived"] == "true"
    assert {s.value for s in outcome.samples} == {1.0}
    found = {(s.labels["severity"], s.labels["outcome"]): s.value
             for s in fams["jada_findings"].samples}
    assert len(found) == 10 and found[("critical", "fail")] == 1
    assert found[("high", "fail")] == 1 and found[("medium", "error")] == 1
    assert found[("medium", "fail")] == 0
    one = {name: fams[name].samples[0].value for name in (
        "jada_run_duration_seconds", "jada_gate_passed", "jada_exit_status",
        "jada_targets_checked", "jada_findings_blocking")}
    assert one == {"jada_run_duration_seconds": 10.0, "jada_gate_passed": 0.0,
                   "jada_exit_status": 1.0, "jada_targets_checked": 2.0,
                   "jada_findings_blocking": 2.0}
    assert "jada_discovery_instances" not in fams  # no targets_from


def test_metrics_carry_the_discovery_counts(root: Path) -> None:
    d = sample_doc(root)
    d["run"]["discovery"] = {"source": "lightsail", "tags": {"app": "jada-agent"},
                             "regions": {"us-east-1": {"instances": ["a", "b", "c"]},
                                         "eu-west-2": {"error": "access denied"}},
                             "targets": ["a", "b"], "listed": ["c"],
                             "no_public_ip": ["us-east-1/b"]}
    fams = families(metrics.render(d))
    per = {s.labels["region"]: s.value for s in fams["jada_discovery_instances"].samples}
    assert per == {"us-east-1": 3.0, "eu-west-2": 0.0}
    errs = {s.labels["region"]: s.value for s in fams["jada_discovery_region_errors"].samples}
    assert errs == {"us-east-1": 0.0, "eu-west-2": 1.0}
    assert fams["jada_discovery_targets"].samples[0].value == 2.0
    assert fams["jada_discovery_no_public_ip"].samples[0].value == 1.0


def test_reports_are_replaced_atomically(tmp_path: Path) -> None:
    from jada_checks.reporting.outputs import write_atomic

    target = tmp_path / "textfile" / "jada.prom"
    write_atomic(target, "a 1\n")
    write_atomic(target, "a 2\n")
    assert target.read_text() == "a 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["jada.prom"]  # no temp file left


def test_a_ci_root_that_does_not_hold_the_profile_is_passed_over(
        root: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """gitlab-ci-local names a CI_PROJECT_DIR the job does not run in; the job's directory,
    which holds the profile, is the root then."""
    monkeypatch.delenv("GITHUB_WORKSPACE")
    monkeypatch.setenv("CI_PROJECT_DIR", str(tmp_path_factory.mktemp("builds")))
    monkeypatch.chdir(root)
    [first, *_] = json.loads(codequality.render(sample_doc(root)))
    assert first["location"]["path"] == "deploy/prod.yaml"
