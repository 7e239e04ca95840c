"""The composite action (action.yml) runs: installs jada-checks from its own path, runs
the suite, merges shards, validates settings, writes the step summary and passes the
exit code through. Targets are 127.0.0.1 on a closed port; no GitHub needed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

import jada_checks
from tests.reporting.test_e2e import profile as closed_port_profile
from tests.support.action_runner import ActionRun, run_action
from tests.support.ci_outputs import sarif_errors
from tests.support.ci_run import require_new_flags
from tests.support.ci_support import pins

pytestmark = pytest.mark.packaging


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One RUNNER_TEMP for the module, as in one job, where ``mode: install`` ran: it put
    jada-checks, installed from the action's path, on GITHUB_PATH."""
    temp = tmp_path_factory.mktemp("runner-temp")
    workdir = tmp_path_factory.mktemp("install")
    run = run_action(workdir, temp, mode="install", python_version="")
    assert run.exitcode == 0 and run.steps_run == [
        "Install jada-checks from the action's own checkout",
        "Put jada-checks on PATH for later steps (install mode)"], run.log[-3000:]
    venv_bin = temp / "jada-checks-venv" / "bin"
    assert (workdir / "github-path").read_text().strip() == str(venv_bin)
    assert "installed jada-checks" in run.log
    return temp


def act(workdir: Path, runner_temp: Path, **inputs: str) -> ActionRun:
    """The action without setup-python (python3 on PATH) and without reinstalling."""
    return run_action(workdir, runner_temp, reinstall=False, python_version="", **inputs)


def test_suite_gate_failure_passes_through(tmp_path: Path, runner_temp: Path) -> None:
    require_new_flags()
    closed_port_profile(tmp_path, ("web-1",))
    run = act(tmp_path, runner_temp, profile="profile.yaml", fail_on="high")
    assert run.exitcode == 1 and run.outputs["exit-code"] == "1", run.log[-4000:]
    # suite mode leaves later steps' PATH alone: only install mode writes GITHUB_PATH
    assert not (tmp_path / "github-path").exists() and run.steps_run == ["Run jada-checks"]
    for name in ("report.json", "report.md", "report.html", "junit.xml"):
        assert (tmp_path / "reports" / name).is_file(), name
    assert "gate FAILED" in run.summary and "web-1" in run.summary
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["run"]["options"]["fail_on"] == "high" and report["gate"]["exit_code"] == 1
    # one annotation per finding, at web-1's line of the profile (relative to the workspace);
    # the closed port errors every host control: the high ones gate, the others are below it
    notes = [ln for ln in run.log.splitlines() if ln.startswith(("::error ", "::warning "))]
    assert len(notes) == len(report["records"]) > 0, run.log[-3000:]
    assert all(n.split(" ", 1)[1].startswith("file=profile.yaml,line=3,title=JADA-")
               for n in notes), notes
    gating = {(b["control"], b["target"]) for b in report["gate"]["blocking"]}
    assert sum(n.startswith("::error ") for n in notes) == len(gating) > 0
    assert any("[web-1]::not checked: unreachable: " in n for n in notes), notes
    sarif = tmp_path / "reports" / "report.sarif"
    assert run.outputs["sarif-file"] == str(sarif)
    assert sarif_errors(json.loads(sarif.read_text())) == []
    assert run.uses == []  # upload-sarif is off by default


def test_upload_sarif_after_a_failed_gate(tmp_path: Path, runner_temp: Path) -> None:
    """upload-sarif: the upload step runs although the run step failed (exit 1), with the
    SARIF the run wrote; without a JSON report asked for, annotations still come (from a
    report in RUNNER_TEMP)."""
    require_new_flags()
    closed_port_profile(tmp_path, ("web-1",))
    run = act(tmp_path, runner_temp, profile="profile.yaml", upload_sarif="true",
              sarif_category="prod", report_json="", report_md="", report_html="",
              junit_xml="", report_sarif="out/jada.sarif")
    assert run.exitcode == 1 and run.outputs["exit-code"] == "1", run.log[-3000:]
    sarif = tmp_path / "out" / "jada.sarif"
    [(uses, given)] = run.uses
    assert uses.startswith("github/codeql-action/upload-sarif@")
    assert given == {"sarif_file": str(sarif), "category": "prod"}
    log = json.loads(sarif.read_text())
    assert sarif_errors(log) == [] and log["runs"][0]["results"]
    assert "::error file=profile.yaml,line=3,title=JADA-" in run.log
    assert not (tmp_path / "reports").exists()


def test_no_upload_of_a_stale_sarif(tmp_path: Path, runner_temp: Path) -> None:
    """A run that stops with a usage error writes no reports: neither an old SARIF nor an
    old JSON report is uploaded or annotated; and a non-boolean input is refused."""
    require_new_flags()
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report.sarif").write_text("{}")
    run = act(tmp_path, runner_temp, profile="missing.yaml", upload_sarif="true")
    assert run.exitcode == 4 and run.uses == [] and run.outputs["sarif-file"] == "", run.log
    bad = act(tmp_path, runner_temp, profile="missing.yaml", upload_sarif="yes")
    assert bad.exitcode == 4 and "input upload-sarif must be true or false" in bad.log


def test_inputs_are_never_shell_code(tmp_path: Path, runner_temp: Path) -> None:
    """Shell syntax in inputs arrives as text: a waivers file of that name (exit 4)."""
    require_new_flags()
    closed_port_profile(tmp_path, ("web-1",))
    run = act(tmp_path, runner_temp, profile="profile.yaml",
              waivers="$(touch pwned-1); `touch pwned-2`",
              pytest_args="-k $(touch${IFS}pwned-3)")
    assert run.exitcode == 4 and run.outputs["exit-code"] == "4", run.log[-3000:]
    assert not list(tmp_path.glob("pwned-*")), "an input was run as shell code"
    assert "exited 4" in run.summary


def test_shards_then_merge(tmp_path: Path, runner_temp: Path) -> None:
    """Shard jobs with gate false succeed on exit 1; the merge job is the gate."""
    require_new_flags()
    closed_port_profile(tmp_path, ("web-1", "web-2"))
    for i in (1, 2):
        run = act(tmp_path, runner_temp, profile="profile.yaml", shard=f"{i}/2", gate="false",
                  report_json=f"reports/shard-{i}.json", report_md="", report_html="",
                  junit_xml="")
        assert run.exitcode == 0 and run.outputs["exit-code"] == "1", run.log[-3000:]
    merged = act(tmp_path, runner_temp, mode="merge-reports",
                 shard_reports="reports/shard-*.json")
    assert merged.exitcode == 1 and merged.outputs["exit-code"] == "1", merged.log[-3000:]
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert sorted(report["run"]["targets"]) == ["web-1", "web-2"]
    assert (tmp_path / "reports" / "report.html").is_file() and "gate FAILED" in merged.summary
    # the merge job annotates and writes the SARIF of the whole run
    log = json.loads((tmp_path / "reports" / "report.sarif").read_text())
    assert {r["properties"]["target"] for r in log["runs"][0]["results"]} == {"web-1", "web-2"}
    assert "[web-2]::not checked: unreachable:" in merged.log


def test_validate_settings(tmp_path: Path, runner_temp: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"model": "claude-sonnet-4-6"}))
    bad.write_text('{"model": "claude-sonnet-4-6", "modle": 1}')
    failed = act(tmp_path, runner_temp, mode="validate-settings",
                 settings_files="good.json bad.json")
    assert failed.exitcode == 1 and failed.outputs["exit-code"] == "1", failed.log[-3000:]
    assert "good.json: valid" in failed.summary
    assert "bad.json" in failed.summary and "modle" in failed.summary


def test_install_uses_the_tested_pins(runner_temp: Path) -> None:
    """The default install (constraints empty: the action's own ci/constraints.txt) holds
    exactly the versions the self-tests ran with."""
    freeze = subprocess.run([str(runner_temp / "jada-checks-venv" / "bin" / "python"), "-m",
                             "pip", "freeze"], capture_output=True, text=True, check=True)
    installed = {canonicalize_name(n): v for n, _, v in
                 (ln.partition("==") for ln in freeze.stdout.splitlines()) if v}
    assert {n: installed.get(n) for n in pins()} == pins()


def test_constraints_input_overrides_the_pins(tmp_path: Path) -> None:
    """A constraints file of the caller's replaces the pins: one that asks for pytest 8
    meets the plugin's pytest 9 bound, and pip refuses (quietly: the install is -q)."""
    (tmp_path / "old-pytest.txt").write_text("pytest==8.4.2\n")
    run = run_action(tmp_path, tmp_path / "runner-temp", mode="install", python_version="",
                     constraints="old-pytest.txt")
    assert run.exitcode != 0, run.log[-3000:]
    assert f"Cannot install jada-checks=={jada_checks.__version__} because these package " \
           "versions have conflicting dependencies" in run.log, run.log[-3000:]
