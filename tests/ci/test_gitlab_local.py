"""The GitLab component runs end to end: gitlab-ci-local (shell executor) runs a pipeline
that includes templates/deploy-gate.yml with ``include: local:``, its ``install`` input
pointing at a wheel built from this checkout.

Without sandbox hosts, the profile's one target is 127.0.0.1 on a closed port: the job
installs, runs the suite, fails the gate with exit 1 and leaves every report as an
artifact. With the sandbox (marker ``sandbox``), the targets are ``compliant`` and
``drifted``.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.support.ci_outputs import PUSHGATEWAY, daemon, outcome_samples, scrape
from tests.support.ci_run import (
    checkout_wheel,
    git_project,
    list_jobs,
    require_new_flags,
    run_gitlab_ci_local,
)
from tests.support.ci_support import (
    CONSTRAINTS,
    GITLAB_DEFAULT_STAGES,
    GITLAB_EXAMPLES,
    SAMPLE_INPUTS,
    TEMPLATES,
    example_jobs,
    jobs_of,
    load_yaml,
    render,
    spec_inputs,
    template_for,
)
from tests.support.sandbox_harness import SANDBOX_ENV, SandboxHarness

__all__ = ["daemon"]  # a fixture, used by name

pytestmark = pytest.mark.sandbox_hosts("compliant", "drifted")
JOB = "jada-deploy-gate"
GATE = TEMPLATES[0].parent / "deploy-gate.yml"
REPORTS = ("reports/report.json", "reports/report.md", "reports/report.html",
           "reports/junit.xml", "reports/report.sarif", "reports/codequality.json")


def deploy_gate_yaml(wheel: Path, profile: Path, pytest_args: str = "") -> str:
    """A .gitlab-ci.yml including the deploy gate locally; no retry (a failure is final)."""
    return ("include:\n"
            "  - local: templates/deploy-gate.yml\n"
            "    inputs:\n"
            f"      install: {json.dumps(str(wheel))}\n"
            f"      constraints: {json.dumps(str(CONSTRAINTS))}\n"
            f"      profile: {json.dumps(str(profile))}\n"
            "      retry-timeout: ''\n"
            f"      pytest-args: {json.dumps(pytest_args)}\n")


def closed_port_profile(project: Path) -> Path:
    (project / "known_hosts").touch()
    path = project / "profile.yaml"
    path.write_text("version: 1\ntargets:\n  - name: web-1\n    ssh: {host: 127.0.0.1, "
                    "port: 1, known_hosts: known_hosts, connect_timeout: 2,\n"
                    "          identity_file: ~/.ssh/jada_ci_key}\n")
    return path


def test_all_templates_include_together(tmp_path: Path) -> None:
    """gitlab-ci-local resolves all four templates in one pipeline, without stages: of their
    own (the failure before: ``stage:validate not found``)."""
    lines = ["include:"]
    expected: set[str] = set()
    for path in TEMPLATES:
        lines.append(f"  - local: templates/{path.name}")
        inputs = {k: v for k, v in SAMPLE_INPUTS.items() if k in spec_inputs(path)}
        if inputs:
            lines += ["    inputs:", *(f"      {k}: {json.dumps(v)}" for k, v in inputs.items())]
        expected |= set(jobs_of(render(path, inputs)))
    git_project(tmp_path, "\n".join(lines) + "\n")
    assert {j["name"].split(":")[0] for j in list_jobs(tmp_path)} == expected


def test_all_examples_include_together(tmp_path: Path) -> None:
    """The ci/gitlab examples, their components included locally, in one pipeline: every
    job resolves in a default stage (the examples declare no stages:)."""
    merged: list[dict[str, object]] = []
    expected: set[str] = set()
    for path in GITLAB_EXAMPLES:
        for inc in load_yaml(path)["include"]:
            local = f"templates/{template_for(inc['component']).name}"
            merged.append({"local": local, "inputs": inc.get("inputs", {})})
        expected |= set(jobs_of(example_jobs(path)))
    git_project(tmp_path, yaml.safe_dump({"include": merged}, sort_keys=False))
    jobs = list_jobs(tmp_path)
    assert {j["name"].split(":")[0] for j in jobs} == expected
    assert {j["stage"] for j in jobs} <= set(GITLAB_DEFAULT_STAGES)


@pytest.mark.packaging
def test_deploy_gate_against_a_closed_port(tmp_path: Path) -> None:
    require_new_flags()
    key = tmp_path / "throwaway_key"  # a key made for this test, passed like a File variable
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jada-test",
                    "-f", str(key)], check=True)
    closed_port_profile(tmp_path)
    # relative, as in a user's repository: findings point at it relative to CI_PROJECT_DIR
    git_project(tmp_path, deploy_gate_yaml(checkout_wheel(), Path("profile.yaml")))
    run = run_gitlab_ci_local(tmp_path, variables={"JADA_SSH_PRIVATE_KEY": str(key)})
    assert run.exitcode == 1, run.output[-4000:]
    assert run.job_exit(JOB) == 1, run.output[-4000:]
    for path in REPORTS:
        assert run.artifact(JOB, path).is_file(), f"{path} is not an artifact"
    report = json.loads(run.artifact(JOB, "reports/report.json").read_text())
    assert report["run"]["targets"] == ["web-1"] and report["gate"]["exit_code"] == 1
    assert report["run"]["options"]["fail_on"] == "high"
    assert [u["target"] for u in report["unreachable"]] == ["web-1"]
    assert all(r["outcome"] == "error" and "127.0.0.1:1" in r["message"]
               for r in report["records"])
    cases = list(ET.parse(run.artifact(JOB, "reports/junit.xml")).getroot().iter("testcase"))
    assert len(cases) == len(report["records"]) > 0
    # code quality: one issue per erroring control, at web-1's line of the profile (3)
    issues = json.loads(run.artifact(JOB, "reports/codequality.json").read_text())
    assert sorted(i["check_name"] for i in issues) == sorted(r["control"] for r in
                                                             report["records"])
    sarif = json.loads(run.artifact(JOB, "reports/report.sarif").read_text())["runs"][0]
    assert {(i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues} == {
        ("profile.yaml", 3)}, (sarif["originalUriBaseIds"], tmp_path)
    assert "gate FAILED" in run.artifact(JOB, "reports/report.md").read_text()
    assert "<html" in run.artifact(JOB, "reports/report.html").read_text().lower()
    home_ssh = tmp_path / "home" / ".ssh"
    assert home_ssh.is_dir() and home_ssh.stat().st_mode & 0o777 == 0o700
    assert not (home_ssh / "jada_ci_key").exists(), "after_script removes the key"
    secret = key.read_text().splitlines()[1]
    assert secret not in run.output, "the private key reached the job log"


@pytest.mark.sandbox
def test_deploy_gate_against_sandbox_hosts(tmp_path: Path, sandbox: SandboxHarness) -> None:
    require_new_flags()
    profile = sandbox.profile_for(["compliant", "drifted"])
    git_project(tmp_path, deploy_gate_yaml(checkout_wheel(), profile, "-n 2"))
    run = run_gitlab_ci_local(tmp_path, variables=dict(SANDBOX_ENV))
    assert run.exitcode == 1 and run.job_exit(JOB) == 1, run.output[-4000:]
    for path in REPORTS:
        assert run.artifact(JOB, path).is_file(), f"{path} is not an artifact"
    report = json.loads(run.artifact(JOB, "reports/report.json").read_text())
    assert sorted(report["run"]["targets"]) == ["compliant", "drifted"]
    assert report["gate"]["exit_code"] == 1
    by_target = {t: [r["outcome"] for r in report["records"] if r["target"] == t]
                 for t in ("compliant", "drifted")}
    assert by_target["compliant"] and by_target["drifted"]
    assert "fail" in by_target["drifted"]
    # the merge request's code quality widget gets every finding of drifted, nothing of
    # compliant
    issues = json.loads(run.artifact(JOB, "reports/codequality.json").read_text())
    assert sorted(i["check_name"] for i in issues) == sorted(
        r["control"] for r in report["records"]
        if r["target"] == "drifted" and r["outcome"] in ("fail", "error"))
    assert not {"fail", "error"} & set(by_target["compliant"]), [
        (r["control"], r["message"]) for r in report["records"] if r["target"] == "compliant"
        and r["outcome"] != "pass"]


def twice_yaml() -> str:
    return ("include:\n"
            "  - local: templates/deploy-gate.yml\n"
            "    inputs: {job-prefix: staging, profile: deploy/staging.yaml}\n"
            "  - local: templates/deploy-gate.yml\n"
            "    inputs: {job-prefix: prod, profile: deploy/prod.yaml, fail-on: critical}\n")


def test_the_deploy_gate_included_twice_runs_twice_on_the_default_branch(
        tmp_path: Path) -> None:
    """job-prefix: two includes (staging, prod) make two jobs, each with its own inputs and
    its own pip cache; the default rules let both run on the default branch."""
    git_project(tmp_path, twice_yaml())
    jobs = {j["name"]: j for j in list_jobs(tmp_path)}
    assert set(jobs) == {"staging-deploy-gate", "prod-deploy-gate"}, jobs
    assert {j["when"] for j in jobs.values()} == {"on_success"}
    rendered = {**render(GATE,
                         {"job-prefix": "staging", "profile": "deploy/staging.yaml"}),
                **render(GATE,
                         {"job-prefix": "prod", "profile": "deploy/prod.yaml",
                          "fail-on": "critical"})}
    assert rendered["prod-deploy-gate"]["variables"]["JADA_INPUT_FAIL_ON"] == "critical"
    assert rendered["staging-deploy-gate"]["variables"]["JADA_INPUT_FAIL_ON"] == "high"
    assert {j["cache"]["key"] for j in rendered.values()} == {
        "staging-deploy-gate-pip", "prod-deploy-gate-pip"}


def test_the_deploy_gate_runs_on_tags_but_not_on_a_feature_branch(tmp_path: Path) -> None:
    """Default rules: the default branch and tags only. (gitlab-ci-local takes a tag
    pipeline's CI_COMMIT_TAG as a variable; it does not read it from git.)"""
    git_project(tmp_path, twice_yaml())
    subprocess.run(["git", "checkout", "-q", "-b", "feature"], cwd=tmp_path, check=True)
    assert {j["name"]: j["when"] for j in list_jobs(tmp_path)} == {
        "staging-deploy-gate": "never", "prod-deploy-gate": "never"}
    tagged = list_jobs(tmp_path, {"CI_COMMIT_TAG": "v9.9.9"})
    assert {j["name"]: j["when"] for j in tagged} == {
        "staging-deploy-gate": "on_success", "prod-deploy-gate": "on_success"}


@pytest.mark.packaging
def test_the_deploy_gate_included_twice_runs_both_jobs(tmp_path: Path) -> None:
    """The include-twice case run, not only listed: two jobs, each installs (pip cache),
    runs with its own inputs and keeps its own reports."""
    require_new_flags()
    profile = closed_port_profile(tmp_path)
    wheel = json.dumps(str(checkout_wheel()))
    pins = json.dumps(str(CONSTRAINTS))  # the default is this release's file by URL
    git_project(tmp_path, "include:\n" + "".join(
        "  - local: templates/deploy-gate.yml\n"
        f"    inputs: {{job-prefix: {prefix}, install: {wheel}, constraints: {pins},\n"
        "             retry-timeout: '',\n"
        f"             profile: {json.dumps(str(profile))}, fail-on: {fail_on}}}\n"
        for prefix, fail_on in (("staging", "high"), ("prod", "critical"))))
    # One job at a time: the shell executor runs both in this one directory (a real runner
    # gives each job its own checkout), so side by side one job's reports/ could be
    # collected as the other's artifact (seen once: staging's report said critical).
    run = run_gitlab_ci_local(tmp_path, "--concurrency", "1")
    for job, fail_on in (("staging-deploy-gate", "high"), ("prod-deploy-gate", "critical")):
        assert run.job_exit(job) == 1, run.output[-4000:]
        assert run.artifact(job, "reports/report.json").is_file(), run.output[-3000:]
        report = json.loads(run.artifact(job, "reports/report.json").read_text())
        assert report["run"]["options"]["fail_on"] == fail_on
        assert report["run"]["targets"] == ["web-1"] and report["gate"]["exit_code"] == 1


@pytest.mark.packaging
def test_nightly_pushes_metrics_and_fills_the_textfile_dir(
        tmp_path: Path, daemon: Callable[..., str]) -> None:
    """The nightly component in a scheduled pipeline: the run's metrics reach a real
    Pushgateway (loopback) and node_exporter's textfile directory, although the gate fails.
    The baseline download goes to a closed loopback port (no baseline yet)."""
    require_new_flags()
    pushgateway = daemon(PUSHGATEWAY, "--web.listen-address=127.0.0.1:{port}")
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    profile = closed_port_profile(tmp_path)
    git_project(tmp_path, "include:\n  - local: templates/nightly-drift.yml\n    inputs:\n"
                f"      install: {json.dumps(str(checkout_wheel()))}\n"
                f"      constraints: {json.dumps(str(CONSTRAINTS))}\n"
                f"      profile: {json.dumps(str(profile))}\n"
                f"      pushgateway-url: {json.dumps(pushgateway)}\n"
                f"      textfile-dir: {json.dumps(str(textfile))}\n")
    run = run_gitlab_ci_local(tmp_path, "jada-nightly-drift", variables={
        "CI_PIPELINE_SOURCE": "schedule", "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"})
    nightly = "jada-nightly-drift"
    assert run.job_exit(nightly) == 1, run.output[-4000:]
    report = json.loads(run.artifact(nightly, "reports/report.json").read_text())
    want = {(r["control"], r["target"]): r["outcome"] for r in report["records"]}
    assert want and "metrics pushed to the Pushgateway" in run.output, run.output[-3000:]
    pushed = outcome_samples(scrape(pushgateway + "/metrics"), job="jada_checks_nightly")
    assert pushed == want
    assert [p.name for p in textfile.iterdir()] == ["jada_checks.prom"]
    assert outcome_samples((textfile / "jada_checks.prom").read_text()) == want
    assert run.artifact(nightly, "reports/metrics.prom").is_file()
    assert run.artifact(nightly, "reports/codequality.json").is_file()
