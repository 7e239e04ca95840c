"""The CI pipeline files are valid YAML with the keys their CI systems require.

No network here for the published schemas, so this checks structure: GitHub workflows
need ``on`` and ``jobs`` whose jobs have ``runs-on`` and ``steps``; GitLab files need
``stages`` and jobs with a ``script`` in one of those stages. Both must run the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CI = Path(__file__).resolve().parent.parent / "ci"
PIPELINES = ("deploy-gate.yml", "nightly-drift.yml", "pre-release.yml")
GITLAB_RESERVED = {"stages", "variables", "default", "include", "workflow", "image",
                   "services", "cache", "before_script", "after_script"}


def load(path: Path) -> dict:
    # PyYAML reads the bare key `on` as True; GitHub reads it as "on".
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    if True in data:
        data["on"] = data.pop(True)
    return data


@pytest.mark.parametrize("name", PIPELINES)
def test_github_workflow(name: str) -> None:
    wf = load(CI / "github" / name)
    assert wf.get("name") and wf.get("on"), name
    assert isinstance(wf["jobs"], dict) and wf["jobs"]
    for job_id, job in wf["jobs"].items():
        assert "runs-on" in job and isinstance(job["steps"], list) and job["steps"], job_id
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), (job_id, step)
        for need in [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []):
            assert need in wf["jobs"], (job_id, need)
    text = (CI / "github" / name).read_text()
    assert "python -m pytest -p no:cacheprovider --profile" in text or "merge-reports" in text
    assert "--report-json" in text


@pytest.mark.parametrize("name", PIPELINES)
def test_gitlab_pipeline(name: str) -> None:
    pl = load(CI / "gitlab" / name)
    stages = pl["stages"]
    assert isinstance(stages, list) and stages
    jobs = {k: v for k, v in pl.items() if k not in GITLAB_RESERVED and not k.startswith(".")}
    assert jobs
    for job_id, job in jobs.items():
        assert isinstance(job.get("script"), list) and job["script"], job_id
        assert job.get("stage") in stages, job_id
        for need in job.get("needs", []):
            assert (need["job"] if isinstance(need, dict) else need) in jobs, (job_id, need)
    assert "--report-json" in (CI / "gitlab" / name).read_text()


def test_specific_features() -> None:
    gate = (CI / "github" / "deploy-gate.yml").read_text()
    assert "--retry-timeout" in gate
    nightly = load(CI / "github" / "nightly-drift.yml")
    assert nightly["on"]["schedule"][0]["cron"]
    text = (CI / "github" / "nightly-drift.yml").read_text()
    assert "--baseline" in text and "GITHUB_STEP_SUMMARY" in text and "jada-baseline" in text
    pre = load(CI / "github" / "pre-release.yml")
    assert "workflow_dispatch" in pre["on"] and pre["jobs"]["check"]["strategy"]["matrix"]
    assert "--shard" in (CI / "github" / "pre-release.yml").read_text()
    gl = load(CI / "gitlab" / "pre-release.yml")
    assert gl["jada-check"]["parallel"] == 3 and "merge-reports" in str(gl["jada-merge"])
    assert "--baseline" in (CI / "gitlab" / "nightly-drift.yml").read_text()
    assert "--retry-timeout" in (CI / "gitlab" / "deploy-gate.yml").read_text()
