"""The CI files (action.yml, ci/github, templates, ci/gitlab) are valid for their CI systems
and keep the fixes that were made to them.

Linting uses check-jsonschema's bundled schemas (offline). A GitLab component template
is linted as two documents: the ``spec:`` header as it is, and the body as GitLab runs it,
rendered with the inputs' defaults.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.ci_support import (
    ACTION,
    CONSTRAINTS,
    GITHUB,
    GITLAB_DEFAULT_STAGES,
    GITLAB_EXAMPLES,
    REPO,
    SAMPLE_INPUTS,
    TEMPLATES,
    example_jobs,
    github_jobs,
    github_steps,
    gitlab_scripts,
    jobs_of,
    load_yaml,
    pins,
    render,
    spec_inputs,
    split_component,
    version,
)

ALL_FILES = [ACTION, *GITHUB, *TEMPLATES, *GITLAB_EXAMPLES]
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+?)@(?P<sha>[0-9a-f]{40})\s+#\s*"
                  r"(?P<version>v\d+(?:\.\d+)*)(?:\s.*)?$")
# The first major of each action that runs on node24 (earlier ones declare node20 in their
# action.yml; upload-artifact v5 and download-artifact v5/v6 still do; codeql-action's
# upload-sarif v3 is node20, v4 node24).
NODE24_MAJOR = {"actions/checkout": 5, "actions/setup-python": 6, "actions/upload-artifact": 6,
                "actions/download-artifact": 7, "aws-actions/configure-aws-credentials": 6,
                "github/codeql-action/upload-sarif": 4}
SELF_PLACEHOLDER = "OWNER/jada-checks@" + "0" * 40
AWS_SECRETS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
OLD_FLAGS = re.compile(r"(?<![\w-])--(profile|fail-on|fail-on-drift|waivers|baseline|"
                       r"retry-timeout|shard|stats-json|list-controls|report-json)\b")


def check_jsonschema(schema: str, files: list[Path]) -> None:
    res = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                          *map(str, files)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{schema}:\n{res.stdout}{res.stderr}"


# -- linting ----------------------------------------------------------------------------

def test_github_files_lint() -> None:
    check_jsonschema("vendor.github-workflows", GITHUB)
    check_jsonschema("custom.github-workflows-require-timeout", GITHUB)
    check_jsonschema("vendor.github-actions", [ACTION])


def test_gitlab_files_lint(tmp_path: Path) -> None:
    files = list(GITLAB_EXAMPLES)
    for path in TEMPLATES:
        header, _ = split_component(path)
        given = {k: v for k, v in SAMPLE_INPUTS.items() if k in spec_inputs(path)}
        for part, doc in (("spec", header), ("body", render(path, given))):
            out = tmp_path / f"{path.stem}.{part}.yml"
            out.write_text(yaml.safe_dump(doc, sort_keys=False))
            files.append(out)
    check_jsonschema("vendor.gitlab-ci", files)


def test_lint_catches_a_broken_file(tmp_path: Path) -> None:
    """The lint is not vacuous: a typo'd key fails it."""
    bad = tmp_path / "bad.yml"
    bad.write_text("jada-x:\n  stage: test\n  scirpt: [echo]\n")
    with pytest.raises(AssertionError, match="scirpt"):
        check_jsonschema("vendor.gitlab-ci", [bad])


# -- GitHub -----------------------------------------------------------------------------

def test_every_uses_is_pinned_to_a_sha_with_its_version() -> None:
    pins: dict[str, tuple[str, str]] = {}
    for path in [ACTION, *GITHUB]:
        lines = [ln for ln in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", ln)]
        parsed = [s["uses"] for _, s in github_steps() if "uses" in s]
        assert lines, path
        for line in lines:
            m = USES.match(line)
            assert m, f"{path.name}: not pinned to a full SHA with a # vX comment: {line.strip()}"
            ref, sha, ver = m["ref"], m["sha"], m["version"]
            assert f"{ref}@{sha}" in parsed
            if ref == "OWNER/jada-checks":
                assert f"{ref}@{sha}" == SELF_PLACEHOLDER and ver == f"v{version()}", line
                continue
            assert ref in NODE24_MAJOR, f"{path.name}: unreviewed action {ref}"
            assert int(ver[1:].split(".")[0]) >= NODE24_MAJOR[ref], f"{ref} {ver} is node20"
            assert pins.setdefault(ref, (sha, ver)) == (sha, ver), f"{ref} pinned two ways"
    assert set(pins) == set(NODE24_MAJOR)


def test_no_expression_inside_run_scripts() -> None:
    for where, step in github_steps():
        assert "${{" not in step.get("run", ""), where


def test_every_job_has_a_timeout() -> None:
    for name, job_id, job in github_jobs():
        assert isinstance(job.get("timeout-minutes"), int), (name, job_id)


def test_no_static_aws_credentials_in_env() -> None:
    for path in GITHUB:
        wf = load_yaml(path)
        envs = [("workflow", wf.get("env", {}))]
        for job_id, job in wf["jobs"].items():
            envs.append((job_id, job.get("env", {})))
            envs += [(f"{job_id}[{i}]", s.get("env", {})) for i, s in enumerate(job["steps"])]
        for where, env in envs:
            assert not AWS_SECRETS & set(env or {}), f"{path.name}:{where} sets AWS credentials"


def _steps_using(job: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(prefix)]


def test_aws_through_oidc_and_the_ssh_key_removed() -> None:
    for path in GITHUB:
        wf = load_yaml(path)
        for job_id, job in wf["jobs"].items():
            suites = [s for s in _steps_using(job, "OWNER/jada-checks@")
                      if s.get("with", {}).get("mode", "suite") == "suite"]
            if not suites:
                continue
            assert job["permissions"]["id-token"] == "write", (path.name, job_id)
            aws = _steps_using(job, "aws-actions/configure-aws-credentials@")
            assert any("role-to-assume" in s["with"] for s in aws), (path.name, job_id)
            steps = job["steps"]
            writes = [i for i, s in enumerate(steps) if "jada_ci_key" in s.get("run", "")
                      and "mktemp" in s["run"]]
            removes = [i for i, s in enumerate(steps) if s.get("if") == "always()"
                       and "rm -f ~/.ssh/jada_ci_key" in s.get("run", "")]
            assert writes and removes and writes[0] < removes[0], (path.name, job_id)
            assert steps.index(suites[0]) < removes[0], (path.name, job_id)


def test_zizmor_offline_finds_nothing_high() -> None:
    """zizmor (the GitHub Actions security linter) over the Action and every workflow,
    offline (no GitHub API: pinned-SHA and advisory audits are left out): no finding of
    high severity, whatever its confidence."""
    zizmor = Path(sys.executable).parent / "zizmor"
    assert zizmor.is_file(), "zizmor is not installed here: pip install -e '.[test]'"
    res = subprocess.run([str(zizmor), "--offline", "--format", "json", "--min-severity",
                          "high", str(ACTION), *map(str, GITHUB)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    findings = json.loads(res.stdout or "[]")
    where = [(f["ident"], f["locations"][0]["symbolic"]["key"].get("Local"), f["desc"])
             for f in findings]
    assert not where, where
    assert res.returncode == 0, res.stderr[-2000:]


def test_workflow_hygiene() -> None:
    """Token scopes per job, id-token: write only beside an OIDC role, secrets only in
    jobs bound to an environment, a concurrency group everywhere, and a reusable
    workflow that declares every secret it reads."""
    for path in GITHUB:
        wf = load_yaml(path)
        assert wf["permissions"] == {}, f"{path.name}: workflow-level permissions"
        assert wf.get("concurrency", {}).get("group"), f"{path.name}: no concurrency group"
        used: set[str] = set()
        for job_id, job in wf["jobs"].items():
            where = f"{path.name}: jobs.{job_id}"
            assert "permissions" in job, f"{where}: no permissions of its own"
            oidc = any("role-to-assume" in (s.get("with") or {})
                       for s in _steps_using(job, "aws-actions/configure-aws-credentials@"))
            assert (job["permissions"].get("id-token") == "write") == oidc, \
                f"{where}: id-token: write exactly where an OIDC role is assumed"
            secrets = set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(job)))
            assert not secrets or job.get("environment"), \
                f"{where}: reads {sorted(secrets)} outside an environment"
            used |= secrets
        call = (wf["on"] or {}).get("workflow_call") if isinstance(wf["on"], dict) else None
        if call is not None:
            declared = set((call or {}).get("secrets") or {})
            assert used <= declared, f"{path.name}: undeclared secrets {sorted(used - declared)}"
            assert call["secrets"]["JADA_SSH_PRIVATE_KEY"]["required"] is True


def test_action_puts_its_venv_on_path_only_in_install_mode() -> None:
    steps = load_yaml(ACTION)["runs"]["steps"]
    writers = [s for s in steps if "GITHUB_PATH" in s.get("run", "")]
    assert [s.get("if") for s in writers] == ["inputs.mode == 'install'"], writers


def test_action_installs_from_its_own_path() -> None:
    action = load_yaml(ACTION)
    assert action["runs"]["using"] == "composite"
    text = ACTION.read_text()
    assert '"$GITHUB_ACTION_PATH"' in text and "GITHUB_STEP_SUMMARY" in text
    assert 'exit "$rc"' in text and "exit-code" in action["outputs"]
    for name in ("profile", "fail-on", "waivers", "baseline", "report-json", "report-md",
                 "report-html", "python-version", "pytest-args"):
        assert name in action["inputs"], name
    for step in action["runs"]["steps"]:
        for value in (step.get("env") or {}).values():
            assert re.fullmatch(r"\$\{\{ [\w.-]+ \}\}", str(value)), value


XDIST_WORKERS = re.compile(r"(?<![\w-])(-n|--numprocesses)(?![\w-])")


def test_no_pipeline_passes_xdist_workers() -> None:
    """A profile run ignores -n (it checks every target concurrently in one process;
    README, Speed), so no example, template default or description may suggest it."""
    given = [(where, str(step["with"]["pytest-args"])) for where, step in github_steps()
             if "pytest-args" in (step.get("with") or {})]
    given += [(f"{path.name}: inputs.{name}", str((decl or {}).get("default", "")))
              for path in TEMPLATES for name, decl in spec_inputs(path).items()
              if name == "pytest-args"]
    bad = [(where, v) for where, v in given if XDIST_WORKERS.search(v)]
    assert not bad, bad
    texts = {"action.yml": load_yaml(ACTION)["inputs"]["pytest-args"]["description"]}
    texts |= {p.name: (spec_inputs(p).get("pytest-args") or {}).get("description", "")
              for p in TEMPLATES}
    for name, text in texts.items():
        assert not re.search(r"e\.g\.[^.]*(?<![\w-])-n\s+\d", text), (name, text)


# -- GitLab -----------------------------------------------------------------------------

def _template_jobs(path: Path) -> dict[str, Any]:
    given = {k: v for k, v in SAMPLE_INPUTS.items() if k in spec_inputs(path)}
    return render(path, given)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_shape(path: Path) -> None:
    header, body = split_component(path)
    inputs = header["spec"]["inputs"]
    assert inputs["stage"]["default"] == "test"
    install = inputs["install"]["default"]
    assert re.fullmatch(r"jada-checks @ git\+https://\S+/jada-checks\.git@v" +
                        re.escape(version()), install), install
    assert not {"stages", "variables", "default", "include", "workflow"} & set(body), path.name
    jobs = _template_jobs(path)
    assert all(k.startswith(("jada-", ".jada-")) for k in jobs), sorted(jobs)
    for job_id, job in jobs_of(jobs).items():
        assert job["stage"] == "test" and job.get("timeout"), job_id
    for where, script in gitlab_scripts(body):
        assert "$[[" not in script, f"{path.name}:{where}: inputs reach scripts as variables"


def test_any_two_templates_or_examples_include_together() -> None:
    sets = {p.name: set(_template_jobs(p)) for p in TEMPLATES}
    for (a, ja), (b, jb) in itertools.combinations(sets.items(), 2):
        assert not ja & jb, f"templates {a} and {b} both define {sorted(ja & jb)}"
    examples = {p.name: example_jobs(p) for p in GITLAB_EXAMPLES}
    for (a, ja), (b, jb) in itertools.combinations(examples.items(), 2):
        assert not set(ja) & set(jb), f"examples {a} and {b} both define {set(ja) & set(jb)}"
    for name, jobs in examples.items():
        assert "stages" not in load_yaml(REPO / "ci" / "gitlab" / name), name
        for job_id, job in jobs_of(jobs).items():
            assert job["stage"] in GITLAB_DEFAULT_STAGES, (name, job_id, job["stage"])


def test_pipelines_keep_their_features() -> None:
    gate = example_jobs(REPO / "ci" / "gitlab" / "deploy-gate.yml")["jada-deploy-gate"]
    assert gate["variables"]["JADA_INPUT_RETRY_TIMEOUT"] == "2m"
    assert gate["variables"]["JADA_INPUT_FAIL_ON"] == "high"
    pre = example_jobs(REPO / "ci" / "gitlab" / "pre-release.yml")
    assert pre["jada-pre-release-check"]["parallel"] == 3
    assert "merge-reports" in str(pre["jada-pre-release-merge"]["script"])
    nightly = example_jobs(REPO / "ci" / "gitlab" / "nightly-drift.yml")
    assert "--jada-baseline" in str(nightly["jada-nightly-drift"]["script"])
    assert nightly["jada-nightly-baseline"]["needs"][0]["job"] == "jada-nightly-drift"
    # the baseline job's name, prefix included, reaches the script as a variable
    assert "job=$JADA_INPUT_JOB_PREFIX-nightly-baseline" in str(
        nightly["jada-nightly-drift"]["script"])
    assert nightly["jada-nightly-drift"]["variables"]["JADA_INPUT_JOB_PREFIX"] == "jada"
    for jobs in (gate, nightly["jada-nightly-drift"], pre["jada-pre-release-check"]):
        assert jobs.get("id_tokens", {}).get("AWS_ID_TOKEN"), "OIDC token for the AWS role"
    nightly_gh = load_yaml(REPO / "ci" / "github" / "nightly-drift.yml")
    assert nightly_gh["on"]["schedule"][0]["cron"]
    pre_gh = load_yaml(REPO / "ci" / "github" / "pre-release.yml")
    assert pre_gh["jobs"]["check"]["strategy"]["matrix"]["shard"] == [1, 2, 3]


# -- every file -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_self_install_and_only_new_option_names(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"pip\s+install\s+(-\S+\s+)*(-e\s+)?\.(\s|$|\[)", text), \
        f"{path.name}: `pip install .` installs the caller's repository, not jada-checks"
    assert not OLD_FLAGS.findall(text), f"{path.name}: old option names {OLD_FLAGS.findall(text)}"


# -- dependency pins --------------------------------------------------------------------

CONSTRAINTS_URL = ("https://raw.githubusercontent.com/OWNER/jada-checks/v{version}/"
                   "ci/constraints.txt")
PIP_WITH_CONSTRAINTS = ('-m pip install --quiet --disable-pip-version-check '
                        '${JADA_INPUT_CONSTRAINTS:+-c "$JADA_INPUT_CONSTRAINTS"} '
                        '"$JADA_INPUT_INSTALL"')


def test_constraints_pin_every_runtime_dependency_within_its_bounds() -> None:
    """Every requirement of jada-checks, and every requirement of those (as this venv's
    installed metadata declares them), is pinned, at a version pyproject.toml allows."""
    pinned = pins()
    declared = [Requirement(r) for r in
                tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]
    for req in declared:
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req} is not pinned"
        assert req.specifier.contains(pinned[name]), f"{name}=={pinned[name]} outside {req}"
    closure, todo = set(), [canonicalize_name(r.name) for r in declared]
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        for spec in importlib.metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    assert sorted(closure - set(pinned)) == [], "runtime dependencies without a pin"
    assert sorted(set(pinned) - closure) == [], "pins of packages jada-checks does not need"


def test_templates_install_with_the_tested_constraints() -> None:
    for path in TEMPLATES:
        decl = spec_inputs(path)["constraints"]
        assert decl["default"] == CONSTRAINTS_URL.format(version=version()), path.name
        jobs = {k: v for k, v in jobs_of(_template_jobs(path)).items()
                if "JADA_INPUT_INSTALL" in (v.get("variables") or {})}
        assert jobs, path.name
        for job_id, job in jobs.items():
            installs = [s for _, s in gitlab_scripts({job_id: job}) if "pip install" in s]
            assert installs, (path.name, job_id)
            assert all(PIP_WITH_CONSTRAINTS in s for s in installs), (path.name, job_id)
            assert job["variables"]["JADA_INPUT_CONSTRAINTS"] == decl["default"], job_id


def test_the_constraints_url_names_this_file() -> None:
    """The default URL is this file at the release tag on the repository the install
    default names."""
    for path in TEMPLATES:
        install = spec_inputs(path)["install"]["default"]
        repo = re.search(r"github\.com/([^/]+/jada-checks)\.git@(v[\w.]+)", install)
        assert repo, install
        url = spec_inputs(path)["constraints"]["default"]
        assert url == f"https://raw.githubusercontent.com/{repo[1]}/{repo[2]}/" \
                      f"{CONSTRAINTS.relative_to(REPO)}", (path.name, url)


def test_action_installs_with_the_tested_constraints() -> None:
    action = load_yaml(ACTION)
    assert action["inputs"]["constraints"]["default"] == ""
    (install,) = [s for s in action["runs"]["steps"] if s.get("name", "").startswith("Install")]
    assert install["env"]["JADA_ACTION_CONSTRAINTS"] == "${{ inputs.constraints }}"
    script = install["run"]
    assert '"") constraints=(-c "$GITHUB_ACTION_PATH/ci/constraints.txt")' in script
    assert 'none) constraints=()' in script
    assert '-m pip install --quiet --disable-pip-version-check "${constraints[@]}" ' \
           '"$GITHUB_ACTION_PATH"' in script


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_component_caches_pip_and_installs_git_for_a_git_requirement(path: Path) -> None:
    """The default install is a git+ URL and python:3.11-slim has no git: every job that
    pip-installs installs git first when the requirement needs it, and caches pip."""
    assert spec_inputs(path)["install"]["default"].startswith("jada-checks @ git+")
    for job_id, job in jobs_of(_template_jobs(path)).items():
        scripts = "\n".join(s for _, s in gitlab_scripts({job_id: job}))
        if "pip install" not in scripts:
            continue
        assert job["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip", job_id
        assert job["cache"]["paths"] == [".cache/pip/"] and job["cache"]["key"], job_id
        assert re.search(r'\*git\+\*\) command -v git >/dev/null \|\|', scripts), job_id
        git_at = scripts.index("*git+*)")
        assert git_at < scripts.index("pip install"), job_id


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_component_rules_and_job_names_come_from_inputs(path: Path) -> None:
    """Each component takes its rules from inputs and prefixes its jobs' names with the
    job-prefix input: included twice with two prefixes, no job is defined twice, and a
    job's needs point at its own include's jobs."""
    inputs = spec_inputs(path)
    assert inputs["job-prefix"]["default"] == "jada"
    assert inputs["rules"]["type"] == "array" and inputs["rules"]["default"]
    given = {k: v for k, v in SAMPLE_INPUTS.items() if k in inputs}
    a = jobs_of(render(path, {**given, "job-prefix": "staging"}))
    b = jobs_of(render(path, {**given, "job-prefix": "prod"}))
    assert not set(a) & set(b) and all(k.startswith("staging-") for k in a), (a.keys(), b.keys())
    for job_id, job in a.items():
        assert isinstance(job["rules"], list) and job["rules"], job_id
        for need in job.get("needs", []):
            assert need["job"] in a, (job_id, need)
    custom = [{"if": "$CI_COMMIT_TAG =~ /^v/"}]
    first = next(iter(jobs_of(render(path, {**given, "rules": custom})).values()))
    assert first["rules"] == custom


def test_deploy_gate_runs_on_the_default_branch_and_tags_by_default() -> None:
    rules = spec_inputs(TEMPLATES[0].parent / "deploy-gate.yml")["rules"]["default"]
    assert rules == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}, {"if": "$CI_COMMIT_TAG"}]


def _prelude(job: dict[str, Any]) -> str:
    """A job's before_script up to the venv: the image preparation (apt-get), as text."""
    text = "\n".join(job["before_script"])
    return text[:text.index("python3 -m venv")]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_the_default_install_gets_git_in_an_image_without_it(path: Path,
                                                              tmp_path: Path) -> None:
    """Each installing job's preparation, run by bash in an "image" whose PATH has ssh and
    curl but no git (as python:3.11-slim): the default git+ requirement makes it install
    git; a wheel or index requirement does not, nor does an image that has git."""
    stub = tmp_path / "bin"
    stub.mkdir()
    log = tmp_path / "apt.log"
    for name in ("ssh", "curl"):
        (stub / name).write_text("#!/bin/sh\n")
    (stub / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    for tool in stub.iterdir():
        tool.chmod(0o755)
    default = spec_inputs(path)["install"]["default"]
    for job_id, job in jobs_of(_template_jobs(path)).items():
        if "pip install" not in "\n".join(job.get("before_script") or []):
            continue
        for install, has_git, wants_git in ((default, False, True),
                                            ("dist/jada_checks-0.1.0-py3-none-any.whl",
                                             False, False),
                                            (default, True, False)):
            log.unlink(missing_ok=True)
            (stub / "git").unlink(missing_ok=True)
            if has_git:
                (stub / "git").write_text("#!/bin/sh\n")
                (stub / "git").chmod(0o755)
            res = subprocess.run(["/bin/bash", "-ec", _prelude(job)], capture_output=True,
                                 text=True, env={"PATH": str(stub),
                                                 "JADA_INPUT_INSTALL": install})
            assert res.returncode == 0, (job_id, res.stderr)
            calls = log.read_text() if log.exists() else ""
            assert ("install" in calls and " git" in calls) == wants_git, (job_id, install,
                                                                            calls)
