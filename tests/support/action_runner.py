"""Runs action.yml's steps the way the GitHub runner runs a composite action's steps.

Each ``run:`` step is written to a file and run with ``bash --noprofile --norc -eo
pipefail`` (the runner's ``shell: bash``), in its ``working-directory``, with the
runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH), RUNNER_TEMP,
GITHUB_WORKSPACE (the work directory) and GITHUB_ACTION_PATH set, and its ``env:``
evaluated. Only the expression forms the action uses are understood (``inputs.X``,
``steps.ID.outputs.X``, and conditions joined by ``&&`` of ``inputs.X``/``steps.ID.outputs.X
==/!= 'literal'`` and ``!cancelled()``); anything else fails the test. After a failed
step, as on the runner, only steps whose condition has ``!cancelled()`` still run.
``uses:`` steps cannot run here: setup-python is skipped (the tests give
``python-version: ""`` and the action uses python3 on PATH); any other whose condition
holds is recorded with its evaluated ``with:`` in ``ActionRun.uses``.
Installing from source is slow here (index look-ups), so a test module installs once
(``mode: install``) and later runs in the same RUNNER_TEMP may skip that step.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ci_run import checkout_copy, suite_env
from tests.support.ci_support import ACTION, load_yaml

INPUT_EXPR = re.compile(r"\$\{\{ inputs\.([\w-]+) \}\}")
OUTPUT_EXPR = re.compile(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}")
CONDITION = re.compile(r"(inputs\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+) (==|!=) '([^']*)'")


@dataclass
class ActionRun:
    exitcode: int
    outputs: dict[str, str]
    summary: str
    log: str
    steps_run: list[str] = field(default_factory=list)
    uses: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def _value(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    text = str(text)
    if m := INPUT_EXPR.fullmatch(text):
        return inputs[m[1]]
    if m := OUTPUT_EXPR.fullmatch(text):
        return outputs.get(m[1], {}).get(m[2], "")
    assert "${{" not in text, f"expression the test runner does not know: {text}"
    return text


def _condition(expr: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> bool:
    expr = expr.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2].strip()
    result = True
    for part in (p.strip() for p in expr.split("&&")):
        if part == "!cancelled()":
            continue
        m = CONDITION.fullmatch(part)
        assert m, f"if: the test runner does not know: {part}"
        value = _value("${{ " + m[1] + " }}", inputs, outputs)
        result = result and ((value == m[3]) == (m[2] == "=="))
    return result


def _read_outputs(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_action(workdir: Path, runner_temp: Path, *, reinstall: bool = True,
               **given: str) -> ActionRun:
    """Run the action in ``workdir`` with inputs ``given`` (underscores for dashes);
    ``reinstall=False`` skips the install step (already run in this RUNNER_TEMP)."""
    action = load_yaml(ACTION)
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    for key, value in given.items():
        name = key.replace("_", "-")
        assert name in inputs, f"action.yml has no input {name}"
        inputs[name] = value
    runner_temp.mkdir(parents=True, exist_ok=True)
    summary, path_file = workdir / "step-summary.md", workdir / "github-path"
    step_outputs: dict[str, dict[str, str]] = {}
    log, ran, rc = [], [], 0
    uses: list[tuple[str, dict[str, str]]] = []
    for i, step in enumerate(action["runs"]["steps"]):
        if rc != 0 and "!cancelled()" not in str(step.get("if", "")):
            continue  # after a failure the runner skips steps without a status function
        if "if" in step and not _condition(step["if"], inputs, step_outputs):
            continue
        if not reinstall and step.get("name", "").startswith("Install"):
            assert (runner_temp / "jada-checks-venv" / "bin" / "jada-checks").exists()
            continue
        if "uses" in step:
            assert not step["uses"].startswith("actions/setup-python"), "give python_version=''"
            uses.append((step["uses"], {k: _value(v, inputs, step_outputs)
                                        for k, v in (step.get("with") or {}).items()}))
            continue
        out_file = runner_temp / f"output-{i}"
        out_file.unlink(missing_ok=True)  # the runner gives every step a new GITHUB_OUTPUT
        env = {**suite_env(), "GITHUB_ACTION_PATH": str(checkout_copy()),
               "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(out_file),
               "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_PATH": str(path_file),
               "GITHUB_WORKSPACE": str(workdir)}
        env.update({k: _value(v, inputs, step_outputs) for k, v in step.get("env", {}).items()})
        script = runner_temp / f"step-{i}.sh"
        script.write_text(step["run"])
        cwd = workdir / _value(step.get("working-directory", "."), inputs, step_outputs)
        res = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                             cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        log.append(res.stdout + res.stderr)
        ran.append(step.get("name", f"step {i}"))
        step_outputs[step.get("id", f"step-{i}")] = _read_outputs(out_file)
        rc = rc or res.returncode
    outputs = {k: _value(v["value"], inputs, step_outputs)
               for k, v in action.get("outputs", {}).items()}
    text = summary.read_text() if summary.exists() else ""
    return ActionRun(rc, outputs, text, "\n".join(log), ran, uses)
