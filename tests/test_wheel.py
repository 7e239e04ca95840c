"""The wheel, installed alone in a fresh venv, works from a directory unrelated to the checkout.

A module fixture builds the wheel from a copy of the sources (the checkout gets no build/
directory), creates a venv outside the checkout without system site-packages, and installs
only the wheel (with its dependencies) and pytest-profiling, whose ``--profile`` used to
break every pytest start. Every command runs from an empty directory, with neither the
checkout on ``sys.path`` nor ``$JADA_PROFILE`` set, as on a user's machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest

import jada_checks
from jada_checks.controls import catalogue
from tests.support.ci_outputs import sarif_errors
from tests.support.ci_support import CONSTRAINTS
from tests.support.paths import REPO
from tests.support.reporting_support import doc, rec
from tests.support.sandbox_harness import SANDBOX_ENV, SandboxHarness
from tests.test_metadata import APACHE_FIRST_LINES, readme_links, unresolved

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "checks", "schemas")
NOT_SOURCES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
HEAVY = ("jsonschema", "yaml", "boto3", "botocore", "prometheus_client")
# Only the sandbox tests use them: the session sandbox boots just these for this module.
pytestmark = [pytest.mark.sandbox_hosts("compliant", "drifted"), pytest.mark.packaging]
PROBE = """\
import json, sys
import pytest
rc = pytest.main(sys.argv[1:])
print("PROBE " + json.dumps({"rc": int(rc), "modules": sorted(sys.modules)}))
"""


@dataclass
class WheelEnv:
    wheel: Path
    bin: Path
    scratch: Path

    def run(self, *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a venv command (``argv[0]`` from its bin/) in ``cwd`` or a new empty directory
        outside the checkout."""
        cwd = cwd or Path(tempfile.mkdtemp(dir=self.scratch))
        base = {k: v for k, v in os.environ.items()
                if k not in ("JADA_PROFILE", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
                             "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
        base["PATH"] = f"{self.bin}{os.pathsep}{base.get('PATH', '')}"
        return subprocess.run([str(self.bin / argv[0]), *argv[1:]], cwd=cwd,
                              env={**base, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout)


def checked(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, f"{res.args}: exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> WheelEnv:
    root = tmp_path_factory.mktemp("wheel")
    src, dist, venv = root / "src", root / "dist", root / "venv"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=NOT_SOURCES)
        else:
            shutil.copy2(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    checked(subprocess.run([*pip, "wheel", "--no-deps", "-w", str(dist), str(src)],
                           capture_output=True, text=True, timeout=300))
    wheel = next(dist.glob("jada_checks-*.whl"))
    # the base interpreter, not this venv's: the new venv must not see the checkout's install
    base_python = getattr(sys, "_base_executable", sys.executable)
    # --without-pip and this pip installing into it (pip --python): ensurepip cost ~5 s and
    # nothing here uses the venv's own pip
    checked(subprocess.run([base_python, "-m", "venv", "--without-pip", str(venv)],
                           capture_output=True, text=True, timeout=300))
    # with the pins users get by default (ci/constraints.txt), so these are the tested ones
    checked(subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install",
                            "-c", str(CONSTRAINTS), str(wheel), "pytest-profiling"],
                           capture_output=True, text=True, timeout=600))
    scratch = root / "scratch"
    scratch.mkdir()
    return WheelEnv(wheel, venv / "bin", scratch)


def test_the_venv_imports_the_wheel_not_the_checkout(wheel_env: WheelEnv) -> None:
    assert wheel_env.wheel.name.startswith(f"jada_checks-{jada_checks.__version__}-")
    res = checked(wheel_env.run("python", "-c", "import jada_checks; print(jada_checks.__file__)"))
    where = Path(res.stdout.strip())
    assert "site-packages" in where.parts and not where.is_relative_to(REPO), where
    assert (where.parent / "schemas" / "profile.schema.json").is_file()  # package data
    assert (where.parent / "py.typed").is_file()
    # what the wheel ships (README, "What the wheel ships"): the sandbox, not the dev tools
    assert (where.parent / "sandbox" / "cli.py").is_file()
    assert not (where.parent / "dev").exists()


def test_metadata_carries_the_licence_and_the_classifiers(wheel_env: WheelEnv) -> None:
    """What the package index lists: the SPDX licence and its file (PEP 639, metadata 2.4),
    the classifiers, the project URLs, the pytest major the plugin is tested with, and a
    long description whose links are absolute."""
    dist_info = f"jada_checks-{jada_checks.__version__}.dist-info"
    with zipfile.ZipFile(wheel_env.wheel) as whl:
        meta = Parser().parsestr(whl.read(f"{dist_info}/METADATA").decode())
        licence = whl.read(f"{dist_info}/licenses/LICENSE").decode()
    assert meta["Metadata-Version"] == "2.4"
    assert meta["License-Expression"] == "Apache-2.0" and meta.get_all("License-File") == [
        "LICENSE"]
    assert [ln.strip() for ln in licence.splitlines()[1:4]] == APACHE_FIRST_LINES
    classifiers = meta.get_all("Classifier")
    assert "Framework :: Pytest" in classifiers and "Typing :: Typed" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Source"] == "https://github.com/OWNER/jada-checks", urls
    assert "pytest<10,>=9" in meta.get_all("Requires-Dist")
    assert meta["Description-Content-Type"] == "text/markdown"
    description = meta.get_payload()
    assert "# jada-checks" in description and len(readme_links(description)) >= 10
    assert unresolved(description) == []


def test_version(wheel_env: WheelEnv) -> None:
    res = checked(wheel_env.run("jada-checks", "--version"))
    assert res.stdout == f"jada-checks {jada_checks.__version__}\n"


def test_validate_settings(wheel_env: WheelEnv, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"model": "claude-sonnet-4-6"}))
    bad.write_text(json.dumps({"model": "claude-sonnet-4-6", "permissions": {"allow": 7}}))
    res = checked(wheel_env.run("jada-checks", "validate-settings", str(good)))
    assert res.stdout.strip() == f"{good}: valid"
    res = wheel_env.run("jada-checks", "validate-settings", str(bad))
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{bad}: /permissions/allow" in res.stdout and "expected array" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_merge_reports(wheel_env: WheelEnv, tmp_path: Path) -> None:
    parts = [doc([rec(target="a", outcome="pass")], ["a"], shard="1/2"),
             doc([rec(target="b", outcome="pass")], ["b"], shard="2/2")]
    inputs = []
    for i, part in enumerate(parts, 1):
        inputs.append(tmp_path / f"s{i}.json")
        inputs[-1].write_text(json.dumps(part))
    out = tmp_path / "merged.json"
    checked(wheel_env.run("jada-checks", "merge-reports", str(out), *map(str, inputs),
                          "--report-md", str(tmp_path / "merged.md")))
    merged = json.loads(out.read_text())
    assert [(r["target"], r["outcome"]) for r in merged["records"]] == [("a", "pass"),
                                                                       ("b", "pass")]
    assert merged["gate"]["passed"] and (tmp_path / "merged.md").read_text()


def test_ci_outputs(wheel_env: WheelEnv, tmp_path: Path) -> None:
    """SARIF, code quality, metrics (prometheus_client is a dependency of the wheel) and
    annotations, from the installed package alone."""
    parts = [doc([rec(target="a", outcome="fail", severity="critical")], ["a"], shard="1/2"),
             doc([rec(target="b", outcome="pass")], ["b"], shard="2/2")]
    inputs = []
    for i, part in enumerate(parts, 1):
        inputs.append(tmp_path / f"s{i}.json")
        inputs[-1].write_text(json.dumps(part))
    out = {k: tmp_path / f"merged.{k}" for k in ("json", "sarif", "cq", "prom")}
    res = wheel_env.run("jada-checks", "merge-reports", str(out["json"]), *map(str, inputs),
                        "--report-sarif", str(out["sarif"]), "--report-codequality",
                        str(out["cq"]), "--report-metrics", str(out["prom"]))
    assert res.returncode == 1, res.stdout + res.stderr  # a's critical failure gates
    log = json.loads(out["sarif"].read_text())
    assert sarif_errors(log) == []
    assert [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]] == [
        ("JADA-UNIT-01", "error")]
    assert [i["severity"] for i in json.loads(out["cq"].read_text())] == ["blocker"]
    assert 'jada_check_outcome{area="unit",control="JADA-UNIT-01",outcome="fail"' in \
        out["prom"].read_text()
    notes = checked(wheel_env.run("jada-checks", "annotations", str(out["json"]),
                                  "--root", "/")).stdout.splitlines()
    assert notes == ["::error file=p.yml,line=1,title=JADA-UNIT-01 title of JADA-UNIT-01 "
                     "[a]::JADA-UNIT-01 is fail"]


def test_list_controls_is_the_whole_catalogue(wheel_env: WheelEnv) -> None:
    res = checked(wheel_env.run("pytest", "--jada-list-controls"))
    listed = [line.split()[0] for line in res.stdout.splitlines() if line.startswith("JADA-")]
    assert listed == [c.id for c in catalogue()]


def test_help_with_pytest_profiling_installed(wheel_env: WheelEnv) -> None:
    res = checked(wheel_env.run("pytest", "--help"))
    assert re.search(r"^\s+--profile\s", res.stdout, re.M), "pytest-profiling not loaded"
    assert re.search(r"^\s+--jada-profile=PATH", res.stdout, re.M)
    assert re.search(r"^\s+jada_profile \(string\)", res.stdout, re.M)


def test_collect_with_a_profile(wheel_env: WheelEnv, tmp_path: Path) -> None:
    profile = tmp_path / "deploy.yaml"
    profile.write_text("version: 1\ntargets:\n  - name: web\n"
                       "    ssh: {host: 127.0.0.1, port: 1}\n")
    res = checked(wheel_env.run("pytest", "--co", "--jada-profile", str(profile)))
    host_controls = [c.id for c in catalogue() if c.side == "host"]
    assert f"collected {len(host_controls)} items" in res.stdout
    assert f"<ControlItem {host_controls[0]}[web]>" in res.stdout
    assert (f"jada-checks {jada_checks.__version__}: profile {profile} (from --jada-profile), "
            "1 target: web") in res.stdout


def test_unrelated_project_pays_no_heavy_imports(wheel_env: WheelEnv, tmp_path: Path) -> None:
    """Every installed plugin autoloaded, as in a user's project (pytest-testinfra's own
    plugin imports testinfra, so testinfra is not asked about here; see test_lazy_imports)."""
    (tmp_path / "test_own.py").write_text("def test_own():\n    assert True\n")
    res = wheel_env.run("python", "-c", PROBE, "-q", cwd=tmp_path)
    line = next((x for x in res.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line is not None, res.stdout + res.stderr
    out = json.loads(line.removeprefix("PROBE "))
    assert out["rc"] == 0 and "jada_checks.plugin" in out["modules"], res.stdout
    tops = {m.partition(".")[0] for m in out["modules"]}
    assert sorted(tops & set(HEAVY)) == []


def test_sandbox_says_in_one_line_what_only_a_checkout_has(wheel_env: WheelEnv,
                                                           tmp_path: Path) -> None:
    """From the wheel, host directories must be given (a checkout's work); the default
    expectations file is the checkout's, so its absence is one clear line, before
    anything is booted or claimed."""
    res = wheel_env.run("jada-sandbox", "up", "--name", "wheel-check", "--host",
                        f"x={REPO / 'sandbox' / 'hosts' / 'compliant'}", "--profile-out",
                        str(tmp_path / "p.yaml"), env={"JADA_SANDBOX_DIR": str(tmp_path)})
    assert res.returncode == 1, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert lines[0].startswith("jada-sandbox: sandbox/expect.yaml is part of a jada-checks "
                               "checkout, not of the installed package"), lines
    assert "pass it explicitly" in lines[0]
    assert not (tmp_path / "wheel-check").exists()


@pytest.mark.sandbox
def test_suite_from_the_wheel_matches_the_checkout(sandbox: SandboxHarness, wheel_env: WheelEnv,
                                                   tmp_path: Path) -> None:
    """The full suite from the wheel venv, in an empty directory, against ``compliant``:
    the same outcome for every control as the same profile run from the checkout."""
    profile = sandbox.profile_for(["compliant"], tmp_path / "compliant.yaml")
    report = tmp_path / "wheel-report.json"
    res = wheel_env.run("python", "-m", "pytest", "-p", "no:cacheprovider", "--jada-profile",
                        str(profile), "--jada-report-json", str(report), "-q",
                        env=SANDBOX_ENV, timeout=300)
    assert report.exists(), res.stdout[-3000:] + res.stderr[-3000:]
    from_wheel = json.loads(report.read_text())
    from_checkout = sandbox.run_suite(["compliant"], profile=profile)
    assert from_checkout.records, from_checkout.output[-3000:]

    def outcomes(records: list[dict]) -> dict[tuple[str, str], str]:
        return {(r["control"], r["target"]): r["outcome"] for r in records}

    assert outcomes(from_wheel["records"]) == outcomes(from_checkout.records)
    assert from_wheel["suite_version"] == from_checkout.report["suite_version"]
    assert res.returncode == from_checkout.exitcode, res.stdout[-3000:]


OWN_ETC = '''\
import pytest


@pytest.mark.jada(id="ACME-ETC-01", severity="low", title="/etc is a directory")
def test_etc(host):
    assert host.file("/etc").is_directory
'''
OWN_USER = '''

@pytest.mark.jada(id="ACME-USER-01", severity="high", title="The agent does not run as root",
                  remediation="give jada-agent.service a User=")
def test_agent_user(host):
    user = host.service("jada-agent.service").systemd_properties.get("User", "")
    assert user not in ("", "root"), f"the agent runs as {user or 'root'}"
'''


@pytest.mark.sandbox
def test_own_checks_from_the_wheel(sandbox: SandboxHarness, wheel_env: WheelEnv,
                                   tmp_path: Path) -> None:
    """The issue's acceptance: a user project outside the checkout, its two Testinfra
    checks run by the installed wheel against compliant and drifted. A baseline from
    before the second check existed; then the check of severity high that fails on
    drifted is in every report with its id and severity, gates the run, shows as drift,
    and a waiver clears it."""
    project = tmp_path / "acme"
    (project / "checks").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\njada_tests = checks\njada_fail_on = high\n")
    module = project / "checks" / "test_acme.py"
    module.write_text(OWN_ETC)
    sandbox.profile_for(["compliant", "drifted"], project / "profile.yaml")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return wheel_env.run("python", "-m", "pytest", "-p", "no:cacheprovider",
                             "--jada-profile", "profile.yaml", "-m", "area_own", *args,
                             cwd=project, env=SANDBOX_ENV, timeout=300)

    res = run("--jada-report-json", "baseline.json")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    module.write_text(OWN_ETC + OWN_USER)
    reports = ("--jada-report-json", "r.json", "--jada-report-md", "r.md",
               "--jada-report-html", "r.html", "--junitxml", "junit.xml",
               "--jada-report-sarif", "r.sarif", "--jada-report-codequality", "cq.json")
    res = run(*reports, "--jada-baseline", "baseline.json")
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]  # the gate
    doc = json.loads((project / "r.json").read_text())
    assert {(r["control"], r["target"]): (r["severity"], r["outcome"])
            for r in doc["records"]} == {
        ("ACME-ETC-01", "compliant"): ("low", "pass"),
        ("ACME-ETC-01", "drifted"): ("low", "pass"),
        ("ACME-USER-01", "compliant"): ("high", "pass"),
        ("ACME-USER-01", "drifted"): ("high", "fail")}, res.stdout[-3000:]
    failing = next(r for r in doc["records"] if r["outcome"] == "fail")
    assert failing["message"].startswith("the agent runs as root"), failing
    assert doc["gate"]["blocking"] == [{"target": "drifted", "control": "ACME-USER-01",
                                        "severity": "high", "outcome": "fail"}]
    assert [(e["target"], e["control"], e["outcome_from"], e["outcome_to"])
            for e in doc["drift"]["newly_failing"]] == [
        ("drifted", "ACME-USER-01", None, "fail")]
    # every other report holds both, with their ids and severities
    md = (project / "r.md").read_text()
    assert "| ❌ fail | `ACME-USER-01` | high | the agent runs as root" in md
    assert "| ✅ pass | `ACME-ETC-01` | /etc is a directory |" in md
    assert "| newly failing | drifted | `ACME-USER-01` | high | absent → fail |" in md
    html = (project / "r.html").read_text()
    assert "<code>ACME-USER-01</code> <small>high</small>" in html
    assert "<code>ACME-ETC-01</code> <small>low</small>" in html
    props = {}
    for case in ET.parse(project / "junit.xml").getroot().iter("testcase"):
        p = {e.get("name"): e.get("value") for e in case.iter("property")}
        props[(p["control"], p["target"])] = (p["severity"], p["outcome"])
    assert props == {("ACME-ETC-01", "compliant"): ("low", "pass"),
                     ("ACME-ETC-01", "drifted"): ("low", "pass"),
                     ("ACME-USER-01", "compliant"): ("high", "pass"),
                     ("ACME-USER-01", "drifted"): ("high", "fail")}
    sarif = json.loads((project / "r.sarif").read_text())  # findings only
    assert sarif_errors(sarif) == []
    assert [(r["ruleId"], r["level"], r["properties"]["severity"])
            for r in sarif["runs"][0]["results"]] == [("ACME-USER-01", "error", "high")]
    assert [(i["check_name"].split()[0], i["severity"])
            for i in json.loads((project / "cq.json").read_text())] == [
        ("ACME-USER-01", "critical")]
    table = res.stdout[res.stdout.index("jada-checks summary"):]
    assert re.search(r"^ACME-ETC-01\s+PASS\s+PASS\s*$", table, re.M), table
    assert re.search(r"^ACME-USER-01\s+PASS\s+FAIL\s*$", table, re.M), table
    assert "1 newly failing" in table and "gate FAILED: 1 finding(s) at or above high" in table
    # a waiver clears it
    (project / "waivers.yaml").write_text(
        "version: 1\nwaivers:\n  - control: ACME-USER-01\n    target: drifted\n"
        "    justification: the unit is being rebuilt (OPS-9)\n    expires: 2099-12-31\n")
    res = run("--jada-waivers", "waivers.yaml", "--jada-report-json", "r.json")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    doc = json.loads((project / "r.json").read_text())
    assert doc["gate"]["passed"] and doc["gate"]["waived"] == 1
