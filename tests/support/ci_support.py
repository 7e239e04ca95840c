"""Helpers of the CI-file self-tests: which files there are, how to read them, and how
GitLab turns a component template plus inputs into jobs.

A component template is two YAML documents: the ``spec:`` header and, after ``---``, the
body. GitLab interpolates ``$[[ inputs.NAME ]]`` in the body's parsed string values: a
value that is exactly one such block takes the input's typed value, any other string gets
the value's text. :func:`render` does the same, and refuses anything it does not know
(unknown or missing inputs, values outside ``options``, interpolation functions).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name

import jada_checks
from tests.support.paths import REPO

ACTION = REPO / "action.yml"
GITHUB = sorted((REPO / "ci" / "github").glob("*.yml"))
GITLAB_EXAMPLES = sorted((REPO / "ci" / "gitlab").glob("*.yml"))
TEMPLATES = sorted((REPO / "templates").glob("*.yml"))
# The tested versions of the runtime dependencies (make install, the Action, the component).
CONSTRAINTS = REPO / "ci" / "constraints.txt"
GITLAB_DEFAULT_STAGES = (".pre", "build", "test", "deploy", ".post")
GITLAB_GLOBAL_KEYS = {"stages", "variables", "default", "include", "workflow", "image",
                      "services", "cache", "before_script", "after_script", "spec"}
BLOCK = re.compile(r"\$\[\[\s*(.*?)\s*\]\]")
INPUT = re.compile(r"inputs\.([A-Za-z0-9_-]+)")
# Values for inputs without a default, where a test must render a template on its own.
SAMPLE_INPUTS = {"settings-file": "deploy/claude/settings.json"}


def version() -> str:
    """The package version (release tags are v<version>); pyproject.toml reads it from
    jada_checks.__version__."""
    return jada_checks.__version__


def load_yaml(path: Path) -> dict[str, Any]:
    """One YAML document; GitHub's bare ``on`` key (YAML 1.1 True) becomes "on"."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    if True in data:
        data["on"] = data.pop(True)
    return data


def split_component(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A component template's (header, body) documents."""
    docs = list(yaml.safe_load_all(path.read_text()))
    assert len(docs) == 2, f"{path}: expected a spec header, ---, and the jobs"
    header, body = docs
    assert isinstance(header, dict) and set(header) == {"spec"}, path
    assert isinstance(body, dict), path
    return header, body


def spec_inputs(path: Path) -> dict[str, dict[str, Any]]:
    return split_component(path)[0]["spec"].get("inputs", {}) or {}


def resolve_inputs(path: Path, given: dict[str, Any]) -> dict[str, Any]:
    """The inputs GitLab would use: given ones checked against the spec, defaults for the rest."""
    spec = spec_inputs(path)
    unknown = set(given) - set(spec)
    assert not unknown, f"{path.name}: unknown inputs {sorted(unknown)}"
    values: dict[str, Any] = {}
    for name, decl in spec.items():
        decl = decl or {}
        if name in given:
            value = given[name]
        else:
            assert "default" in decl, f"{path.name}: input {name} is required"
            value = decl["default"]
        kind = decl.get("type", "string")
        expected = {"string": str, "number": (int, float), "boolean": bool, "array": list}[kind]
        assert isinstance(value, expected), f"{path.name}: input {name}={value!r} is not a {kind}"
        if "options" in decl:
            assert value in decl["options"], f"{path.name}: {name}={value!r} not in options"
        values[name] = value
    return values


def _interpolate(node: Any, values: dict[str, Any], where: str) -> Any:
    if isinstance(node, dict):
        return {_interpolate(k, values, where): _interpolate(v, values, where)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, values, where) for v in node]
    if not isinstance(node, str) or "$[[" not in node:
        return node

    def value(expr: str) -> Any:
        m = INPUT.fullmatch(expr)
        assert m, f"{where}: unsupported interpolation $[[ {expr} ]]"
        return values[m[1]]

    whole = BLOCK.fullmatch(node.strip())
    if whole:
        return value(whole[1])
    return BLOCK.sub(lambda m: str(value(m[1])), node)


def render(path: Path, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The jobs a component template adds to a pipeline with these inputs."""
    values = resolve_inputs(path, dict(given or {}))
    return _interpolate(split_component(path)[1], values, path.name)


def template_for(component: str) -> Path:
    """templates/NAME.yml of an ``include: component:`` address ``host/path/NAME@version``."""
    m = re.fullmatch(r"[^@\s]+/jada-checks/([a-z0-9-]+)@v?[\w.]+", component)
    assert m, f"not a jada-checks component address: {component}"
    path = REPO / "templates" / f"{m[1]}.yml"
    assert path.is_file(), f"{component}: no {path}"
    return path


def example_jobs(path: Path) -> dict[str, Any]:
    """The jobs a ci/gitlab example adds: its own plus its components' (rendered)."""
    data = load_yaml(path)
    jobs = {k: v for k, v in data.items() if k not in GITLAB_GLOBAL_KEYS}
    for inc in data.get("include", []):
        assert "component" in inc, f"{path.name}: include without component: {inc}"
        rendered = render(template_for(inc["component"]), inc.get("inputs"))
        clash = set(rendered) & set(jobs)
        assert not clash, f"{path.name}: {sorted(clash)} defined twice"
        jobs.update(rendered)
    return jobs


def jobs_of(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The real (not hidden) jobs of a rendered GitLab configuration."""
    return {k: v for k, v in config.items()
            if k not in GITLAB_GLOBAL_KEYS and not k.startswith(".")}


def github_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(file name, job id, job) of every example workflow."""
    for path in GITHUB:
        for job_id, job in load_yaml(path)["jobs"].items():
            yield path.name, job_id, job


def github_steps() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, step) of every workflow step and of the action's steps."""
    for name, job_id, job in github_jobs():
        for i, step in enumerate(job.get("steps", [])):
            yield f"{name}:{job_id}[{i}]", step
    for i, step in enumerate(load_yaml(ACTION)["runs"]["steps"]):
        yield f"action.yml[{i}]", step


def gitlab_scripts(jobs: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(job, script text) of every script, before_script and after_script entry."""
    for job_id, job in jobs.items():
        for key in ("before_script", "script", "after_script"):
            for line in job.get(key, []) or []:
                yield f"{job_id}.{key}", line


def pins() -> dict[str, str]:
    """ci/constraints.txt as {canonical name: version}; every line a pin or a comment."""
    out = {}
    for n, line in enumerate(CONSTRAINTS.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9._-]+)==([\w.+!-]+)", line)
        assert m, f"ci/constraints.txt:{n}: not name==version: {line}"
        out[canonicalize_name(m[1])] = m[2]
    return out
