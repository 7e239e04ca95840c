"""Your own checks, without a sandbox: which paths a profile run collects, parametrization
over targets and its narrowing, the ``jada`` mark, and the records of user tests in every
report, the gate, waivers and drift.

Each case runs the real suite in a subprocess from a throwaway project, as a user would.
The targets are closed ports on loopback; the user tests here use the ``target`` fixture
(no SSH), and ``-m area_own`` keeps the controls (which would all error) out where the
gate is asserted. ``host`` on real hosts: tests/run/test_own_checks_sandbox.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from jada_checks.reporting.document import read as read_report

TARGET = """\
  - name: {name}
    ssh: {{host: 127.0.0.1, port: 1, known_hosts: known_hosts, connect_timeout: 2}}
"""
CHECKS = '''\
import os

import pytest


def test_plain():
    """Uses no target fixture: not a check of a target."""


@pytest.mark.jada(id="ACME-NAME-01", severity="high", title="Names are short",
                  remediation="rename the target")
def test_short_name(target):
    assert len(target.name) <= int(os.environ.get("OWN_MAX", "5"))


def test_name_has_a_digit(target):
    """Every name ends in a digit."""
    assert target.name[-1].isdigit(), f"{target.name} has no number"


def test_raises(target):
    raise RuntimeError(f"kaboom on {target.name}")


def test_skips(target):
    pytest.skip("not here")
'''


def write_profile(where: Path, names: tuple[str, ...] = ("web-1", "web-22", "db")) -> Path:
    (where / "known_hosts").touch()
    path = where / "p.yaml"
    path.write_text("version: 1\ntargets:\n" + "".join(TARGET.format(name=n) for n in names))
    return path


def run(cwd: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS", "OWN_MAX")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, env={**base, **(env or {})}, capture_output=True,
                          text=True, timeout=120)


def collected(res: subprocess.CompletedProcess[str]) -> list[str]:
    """The user-test node ids of a ``--co -q`` run (controls left out)."""
    return [line for line in res.stdout.splitlines() if "::" in line]


def project(tmp_path: Path, ini: str = "", files: dict[str, str] | None = None) -> Path:
    write_profile(tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n" + ini)
    for name, text in (files or {"checks/test_checks.py": CHECKS}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


ONE = "def test_one(target):\n    pass\n"


# --- which paths -----------------------------------------------------------------------


def test_command_line_paths_are_collected_and_only_them(tmp_path: Path) -> None:
    p = project(tmp_path, "testpaths = other\n",
                {"checks/test_a.py": ONE, "other/test_b.py": ONE})
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml", "checks")
    assert collected(res) == ["checks/test_a.py::test_one[web-1]",
                              "checks/test_a.py::test_one[web-22]",
                              "checks/test_a.py::test_one[db]"], res.stdout + res.stderr
    assert "JADA-UNIT-01[web-1]" in res.stdout  # the controls are still there


def test_ini_jada_tests_beats_testpaths(tmp_path: Path) -> None:
    p = project(tmp_path, "testpaths = other\njada_tests = checks\n",
                {"checks/test_a.py": ONE, "other/test_b.py": ONE})
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml")
    assert {c.split("::")[0] for c in collected(res)} == {"checks/test_a.py"}, res.stdout
    # the ini's paths are relative to the ini file, wherever pytest runs
    (p / "sub").mkdir()
    res = run(p / "sub", "--co", "-q", "--jada-profile", "../p.yaml")
    assert len(collected(res)) == 3, res.stdout + res.stderr


def test_testpaths_when_the_profile_is_asked_for(tmp_path: Path) -> None:
    p = project(tmp_path, "testpaths = other\n",
                {"checks/test_a.py": ONE, "other/test_b.py": ONE})
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml")
    assert {c.split("::")[0] for c in collected(res)} == {"other/test_b.py"}, res.stdout


def test_env_takeover_never_runs_the_projects_testpaths(tmp_path: Path) -> None:
    """$JADA_PROFILE set for one job must not turn a project's ordinary suite (what
    testpaths names) into checks of its targets: they are replaced, as before."""
    p = project(tmp_path, "testpaths = other\n",
                {"checks/test_a.py": ONE, "other/test_b.py": ONE})
    res = run(p, "--co", "-q", env={"JADA_PROFILE": "p.yaml"})
    assert res.returncode == 0, res.stdout + res.stderr
    assert collected(res) == [], res.stdout
    assert "JADA-UNIT-01[web-1]" in res.stdout
    assert "instead of collecting this project's tests" in res.stdout
    # jada_tests is the project saying where its checks are: honoured in the takeover too
    (p / "pytest.ini").write_text("[pytest]\ntestpaths = other\njada_tests = checks\n")
    res = run(p, "--co", "-q", env={"JADA_PROFILE": "p.yaml"})
    assert {c.split("::")[0] for c in collected(res)} == {"checks/test_a.py"}, res.stdout
    assert (f"with your checks from {p / 'checks'} instead of running this project's tests "
            "as they are") in res.stdout


def test_without_user_paths_no_file_is_collected(tmp_path: Path) -> None:
    p = project(tmp_path, "", {"test_a.py": ONE, "checks/test_b.py": ONE})
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml")
    assert res.returncode == 0, res.stdout + res.stderr
    assert collected(res) == [] and "JADA-UNIT-01[web-1]" in res.stdout


# --- parametrization and narrowing -----------------------------------------------------

NARROW = '''\
import pytest

pytestmark = pytest.mark.jada_targets("web-*")


def test_module(target):
    pass


class TestClass:
    pytestmark = pytest.mark.jada_targets("*-22", "db")

    def test_class(self, target):
        pass

    @pytest.mark.jada_targets("nothing-*")
    def test_nowhere(self, target):
        pass


@pytest.mark.parametrize("port", [80, 443])
def test_params(target, port):
    pass
'''
TESTINFRA = '''\
testinfra_hosts = ["ssh://audit@web-22:2222?sudo=true", "db"]


def test_hosts(target):
    pass


def test_plain():
    pass
'''


def test_ids_and_narrowing(tmp_path: Path) -> None:
    p = project(tmp_path, files={"checks/test_n.py": NARROW, "checks/test_t.py": TESTINFRA})
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml", "checks")
    assert res.returncode == 0, res.stdout + res.stderr
    assert sorted(collected(res)) == sorted([
        "checks/test_n.py::test_module[web-1]", "checks/test_n.py::test_module[web-22]",
        "checks/test_n.py::TestClass::test_class[web-22]",  # module and class narrow both
        "checks/test_n.py::test_params[80-web-1]", "checks/test_n.py::test_params[443-web-1]",
        "checks/test_n.py::test_params[80-web-22]",
        "checks/test_n.py::test_params[443-web-22]",
        # testinfra_hosts: host specs name targets (a pattern or the name itself)
        "checks/test_t.py::test_hosts[web-22]", "checks/test_t.py::test_hosts[db]"])
    assert ("jada-checks: 1 collected test(s) use none of the fixtures target, host, "
            "lightsail: not checks of a target, not run") in res.stdout
    assert "jada-checks: 1 of your checks match no selected target" in res.stdout
    # a shard checks its targets' user tests (sorted web-1, web-22, db; 1/2: db, web-22)
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml", "--jada-shard", "1/2",
              "checks/test_t.py")
    assert collected(res) == ["checks/test_t.py::test_hosts[web-22]",
                              "checks/test_t.py::test_hosts[db]"], res.stdout


def test_host_tests_skip_targets_without_ssh(tmp_path: Path) -> None:
    p = project(tmp_path, files={"checks/test_h.py": "def test_h(host):\n    pass\n\n"
                                 "def test_ls(lightsail):\n    pass\n"})
    (p / "p.yaml").write_text(
        "version: 1\naws: {endpoint_url: 'http://127.0.0.1:1', credentials: sandbox}\n"
        "targets:\n" + TARGET.format(name="web-1")
        + "  - name: box\n    lightsail: {instance: box, region: us-east-1}\n")
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml", "checks")
    assert collected(res) == ["checks/test_h.py::test_h[web-1]",
                              "checks/test_h.py::test_ls[box]"], res.stdout + res.stderr


def test_testinfra_plugin_does_not_fight(tmp_path: Path) -> None:
    """pytest-testinfra autoloads its own ``host`` fixture and ``--hosts``: in a profile
    run the suite's ``host`` is the one used, and ``--hosts`` is a usage error."""
    pytest.importorskip("testinfra")
    p = project(tmp_path, files={"checks/test_h.py": "def test_h(host):\n    pass\n"})
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml", "checks")
    assert collected(res) == [f"checks/test_h.py::test_h[{n}]"
                              for n in ("web-1", "web-22", "db")], res.stdout + res.stderr
    res = run(p, "--co", "-q", "--jada-profile", "p.yaml", "--hosts", "ssh://x", "checks")
    assert res.returncode == 4, res.stdout + res.stderr
    assert "--hosts: pytest-testinfra's option(s) for a plain Testinfra run" in res.stderr


# --- the jada mark ------------------------------------------------------------------


BAD = '''\
import pytest


@pytest.mark.jada(severity="urgent")
def test_severity(target):
    pass


@pytest.mark.jada(id="JADA-NET-01")
def test_catalogue_id(target):
    pass


@pytest.mark.jada(id="has space", tilte="typo")
def test_id(target):
    pass


@pytest.mark.jada(id="ACME-1")
def test_first(target):
    pass


@pytest.mark.jada(id="ACME-1")
def test_second(target):
    pass
'''


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["in-process", "n2"])
def test_bad_marks_are_one_usage_error_naming_each_test(tmp_path: Path,
                                                        workers: tuple[str, ...]) -> None:
    """Also with -n 2, where workers collect and the controller reports: nothing runs."""
    p = project(tmp_path, files={"checks/test_bad.py": BAD})
    res = run(p, "-q", "--jada-profile", "p.yaml", "checks", *workers)
    assert res.returncode == 4, res.stdout + res.stderr
    err = res.stderr
    assert "Traceback" not in err
    for line in (
            "checks/test_bad.py::test_severity: pytest.mark.jada severity='urgent' is not "
            "one of critical, high, medium, low, info",
            "checks/test_bad.py::test_catalogue_id: pytest.mark.jada id='JADA-NET-01': "
            "JADA- ids are the catalogue's",
            "checks/test_bad.py::test_id: pytest.mark.jada id='has space': letters, digits",
            "checks/test_bad.py::test_id: pytest.mark.jada: unknown keyword(s) tilte",
            "checks/test_bad.py::test_second: pytest.mark.jada id='ACME-1' is also the id of "
            "checks/test_bad.py::test_first"):
        assert err.count(line) == 1, (line, err)  # once, not once per target
    assert "USAGE ERROR (exit 4)" in res.stdout
    assert "no tests ran" in res.stdout, res.stdout


# --- records, reports, gate, waivers, drift ---------------------------------------------


def test_user_checks_are_records_in_every_report(tmp_path: Path) -> None:
    p = project(tmp_path)
    out = {k: tmp_path / f"r.{k}" for k in ("json", "md", "html", "xml", "sarif", "cq",
                                             "prom")}
    res = run(p, "--jada-profile", "p.yaml", "checks", "-m", "area_own",
              "--jada-report-json", str(out["json"]), "--jada-report-md", str(out["md"]),
              "--jada-report-html", str(out["html"]), "--junitxml", str(out["xml"]),
              "--jada-report-sarif", str(out["sarif"]),
              "--jada-report-codequality", str(out["cq"]),
              "--jada-report-metrics", str(out["prom"]))
    assert res.returncode == 1, res.stdout + res.stderr
    doc = read_report(out["json"], "report")  # schema-valid
    recs = {(r["control"], r["target"]): r for r in doc["records"]}
    short = recs[("ACME-NAME-01", "web-22")]
    assert (short["outcome"], short["severity"], short["title"], short["area"]) == (
        "fail", "high", "Names are short", "own")
    # pytest's own (rewritten) assertion message
    assert short["message"].startswith("assert 6 <= 5"), short
    assert "+  where 6 = len('web-22')" in short["message"], short
    assert short["remediation"] == "rename the target"
    assert short["test"] == "checks/test_checks.py::test_short_name"
    assert short["source"] == "checks/test_checks.py:10"  # its first line: the mark
    assert recs[("ACME-NAME-01", "web-1")]["outcome"] == "pass"
    digit = recs[("checks/test_checks.py::test_name_has_a_digit", "db")]
    assert (digit["outcome"], digit["severity"], digit["title"]) == (
        "fail", "medium", "Every name ends in a digit.")
    assert digit["message"].startswith("db has no number\nassert False"), digit
    boom = recs[("checks/test_checks.py::test_raises", "web-1")]
    assert boom["outcome"] == "error"
    assert boom["message"] == ("RuntimeError: kaboom on web-1 "
                               "(at checks/test_checks.py:22)"), boom
    skip = recs[("checks/test_checks.py::test_skips", "db")]
    assert (skip["outcome"], skip["message"]) == ("skipped", "not here")
    assert not [r for r in doc["records"] if r["control"].startswith("JADA-")]
    assert len(doc["records"]) == 12
    # the others, each naming the checks with their ids
    md = out["md"].read_text()
    assert "| ❌ fail | `ACME-NAME-01` | high | assert 6 &lt;= 5" in md
    assert "`checks/test_checks.py::test_raises` | medium | RuntimeError: kaboom on db" in md
    html = out["html"].read_text()
    assert "<code>ACME-NAME-01</code> <small>high</small>" in html
    cases = {c.get("name"): c for c in ET.parse(out["xml"]).getroot().iter("testcase")}
    props = {p.get("name"): p.get("value")
             for p in cases["test_short_name[web-22]"].iter("property")}
    assert props == {"control": "ACME-NAME-01", "severity": "high", "target": "web-22",
                     "area": "own", "outcome": "fail"}, props
    assert cases["test_short_name[web-22]"].get("classname") == "checks.test_checks"
    sarif = json.loads(out["sarif"].read_text())
    results = {(r["ruleId"], r["properties"]["target"]): r for r in sarif["runs"][0]["results"]}
    assert results[("ACME-NAME-01", "web-22")]["level"] == "error"
    assert ("checks/test_checks.py::test_raises", "db") in results
    cq = json.loads(out["cq"].read_text())
    assert any("ACME-NAME-01" in i["check_name"] and i["severity"] == "critical" for i in cq), cq
    assert 'control="ACME-NAME-01"' in out["prom"].read_text()
    # the terminal: the summary table has the checks by id
    table = res.stdout[res.stdout.index("jada-checks summary"):]
    assert re.search(r"^ACME-NAME-01\s+PASS\s+FAIL\s+PASS", table, re.M), table
    assert re.search(r"^checks/test_checks.py::test_raises\s+ERROR\s+ERROR\s+ERROR",
                     table, re.M), table


ONLY_SHORT = ("-m", "area_own", "-k", "short_name")


def test_gate_waiver_and_drift(tmp_path: Path) -> None:
    p = project(tmp_path)
    base = tmp_path / "base.json"
    # all pass: the baseline
    res = run(p, "--jada-profile", "p.yaml", "checks", *ONLY_SHORT, "--jada-report-json",
              str(base), env={"OWN_MAX": "10"})
    assert res.returncode == 0, res.stdout + res.stderr
    # web-22 fails the high check: it gates, also at --jada-fail-on high
    now = tmp_path / "now.json"
    res = run(p, "--jada-profile", "p.yaml", "checks", *ONLY_SHORT, "--jada-fail-on", "high",
              "--jada-report-json", str(now), "--jada-baseline", str(base))
    assert res.returncode == 1, res.stdout + res.stderr
    doc = json.loads(now.read_text())
    assert doc["gate"]["blocking"] == [{"target": "web-22", "control": "ACME-NAME-01",
                                        "severity": "high", "outcome": "fail"}]
    assert [(e["target"], e["control"], e["outcome_from"], e["outcome_to"])
            for e in doc["drift"]["newly_failing"]] == [("web-22", "ACME-NAME-01", "pass",
                                                         "fail")]
    assert "drift vs " in res.stdout and "1 newly failing" in res.stdout
    # below the threshold it is reported only
    res = run(p, "--jada-profile", "p.yaml", "checks", *ONLY_SHORT, "--jada-fail-on",
              "critical")
    assert res.returncode == 0, res.stdout + res.stderr
    # a waiver on the check's id clears it
    waivers = tmp_path / "w.yaml"
    waivers.write_text("version: 1\nwaivers:\n  - control: ACME-NAME-01\n    target: web-22\n"
                       "    justification: renamed next sprint (OPS-7)\n"
                       "    expires: 2099-12-31\n"
                       "  - control: checks/test_checks.py::test_name_has_a_digit\n"
                       "    target: db\n    justification: db is the only one\n"
                       "    expires: 2099-12-31\n")
    res = run(p, "--jada-profile", "p.yaml", "checks", "-m", "area_own", "-k",
              "short_name or digit", "--jada-waivers", str(waivers), "--jada-report-json",
              str(now))
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(now.read_text())
    assert doc["gate"]["waived"] == 2 and doc["waivers"]["stale"] == [], doc["waivers"]


HOST_CHECKS = '''\
import pytest


@pytest.mark.jada(id="ACME-UP-01", severity="high")
def test_up(host):
    assert host.run("true").rc == 0


def test_etc(host, target):
    assert host.file("/etc").is_directory
'''


def test_an_unreachable_target_errors_every_host_check_naming_the_cause_once(
        tmp_path: Path) -> None:
    p = project(tmp_path, files={"checks/test_h.py": HOST_CHECKS})
    report = tmp_path / "r.json"
    res = run(p, "--jada-profile", "p.yaml", "checks", "-m", "area_own",
              "--jada-report-json", str(report), "--jada-report-md", str(tmp_path / "r.md"))
    assert res.returncode == 1, res.stdout + res.stderr
    doc = json.loads(report.read_text())
    cause = "unreachable: root@127.0.0.1:1: connection refused (sshd not running?)"
    assert {(r["control"], r["outcome"], r["message"]) for r in doc["records"]} == {
        ("ACME-UP-01", "error", cause), ("checks/test_h.py::test_etc", "error", cause)}
    assert all(r["remediation"].startswith("# the suite could not connect")
               for r in doc["records"])
    assert doc["unreachable"] == [{"target": t, "reason": cause, "controls": 2}
                                  for t in ("db", "web-1", "web-22")]
    summary = res.stdout[res.stdout.index("jada-checks summary"):]
    assert summary.count(f"UNREACHABLE web-1: {cause} (2 controls not checked)") == 1
    assert summary.count("# the suite could not connect") == 3  # the fix, once per target
    assert "Traceback" not in res.stdout and "shared.py" not in res.stdout  # no traceback
    md = (tmp_path / "r.md").read_text()
    assert md.count(f"**Not checked — {cause}:** `ACME-UP-01` (high), "
                    "`checks/test_h.py::test_etc` (medium)") == 3


EDGES = '''\
import pytest


@pytest.fixture
def leaky():
    yield
    raise OSError("could not clean up")


def test_teardown(target, leaky):
    pass


@pytest.mark.xfail(reason="known")
def test_xfail(target):
    assert target.name == "nobody"


def test_fail_call(target):
    pytest.fail(f"{target.name} is not ready")
'''


def test_teardown_errors_xfail_and_pytest_fail_are_findings(tmp_path: Path) -> None:
    """A fixture that fails after a passing test makes it an error; xfail hides no
    finding (waivers are how a finding is accepted); pytest.fail is a fail."""
    p = project(tmp_path, files={"checks/test_e.py": EDGES})
    report = tmp_path / "r.json"
    res = run(p, "--jada-profile", "p.yaml", "checks", "-m", "area_own",
              "--jada-report-json", str(report))
    assert res.returncode == 1, res.stdout + res.stderr
    recs = {r["control"]: r for r in json.loads(report.read_text())["records"]
            if r["target"] == "db"}
    td = recs["checks/test_e.py::test_teardown"]
    assert (td["outcome"], td["message"]) == (
        "error", "OSError in a fixture's teardown: could not clean up "
                 "(at checks/test_e.py:7)"), td
    xf = recs["checks/test_e.py::test_xfail"]
    assert xf["outcome"] == "fail" and xf["message"].startswith("assert 'db' == 'nobody'"), xf
    assert (recs["checks/test_e.py::test_fail_call"]["outcome"],
            recs["checks/test_e.py::test_fail_call"]["message"]) == ("fail", "db is not ready")
