"""Running the CI files for real: a wheel of this checkout, gitlab-ci-local pipelines.

The checkout is copied first (tracked and new files, nothing git ignores), so building
never writes into the working tree and a stale ``build/`` cannot leak into the wheel.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.ci_support import REPO

GITLAB_CI_LOCAL = "gitlab-ci-local"
# Where `make install` puts Node 20 and gitlab-ci-local when those on PATH are missing or
# too old (a stock Debian 12 has Node 18): first on PATH for the commands the tests start.
NODE_BIN = REPO / ".venv" / "node" / "bin"
NEW_FLAG = "--jada-profile"


@functools.cache
def checkout_copy() -> Path:
    """A copy of the checkout's tracked and untracked-but-not-ignored files."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    dest = Path(tempfile.mkdtemp(prefix="jada-checkout-"))
    atexit.register(shutil.rmtree, dest, True)
    for name in filter(None, names):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@functools.cache
def checkout_wheel() -> Path:
    """A wheel of jada-checks built from :func:`checkout_copy`."""
    out = Path(tempfile.mkdtemp(prefix="jada-wheel-"))
    atexit.register(shutil.rmtree, out, True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(out), str(checkout_copy())],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("jada_checks-*.whl")
    return wheel


@functools.cache
def pip_cache_dir() -> str:
    res = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True,
                         text=True)
    return res.stdout.strip() if res.returncode == 0 else ""


@functools.cache
def plugin_has_new_flags() -> bool:
    """Whether this checkout's plugin defines the option names the CI files use."""
    res = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    return NEW_FLAG in res.stdout


def require_new_flags() -> None:
    """Fail (never skip) when the CI files and the plugin disagree on option names."""
    assert plugin_has_new_flags(), (
        f"the CI files call the suite with the renamed options ({NEW_FLAG}, --jada-fail-on, "
        "--jada-report-json, ...) but this checkout's plugin does not define them yet")


def suite_env() -> dict[str, str]:
    """The environment of a suite run started by a test: never the caller's profile."""
    env = {k: v for k, v in os.environ.items() if k != "JADA_PROFILE"}
    if NODE_BIN.is_dir():
        env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def gitlab_ci_local_found() -> bool:
    return shutil.which(GITLAB_CI_LOCAL, path=suite_env().get("PATH")) is not None


@dataclass
class Pipeline:
    exitcode: int
    output: str
    project: Path

    def job_exit(self, job: str) -> int:
        """The job's exit code as gitlab-ci-local reports it (0 for PASS)."""
        m = re.search(rf"^{re.escape(job)} +finished in .*?(PASS|FAIL (\d+))", self.output, re.M)
        assert m, f"no result line for {job}:\n{self.output[-3000:]}"
        return 0 if m[1] == "PASS" else int(m[2])

    def artifact(self, job: str, path: str) -> Path:
        return self.project / ".gitlab-ci-local" / "artifacts" / job / path


def git_project(project: Path, ci_yaml: str) -> None:
    """``project`` as a one-commit git repository with this .gitlab-ci.yml and templates/."""
    shutil.copytree(REPO / "templates", project / "templates", dirs_exist_ok=True)
    (project / ".gitlab-ci.yml").write_text(ci_yaml)
    git = ["git", "-c", "user.name=jada-test", "-c", "user.email=jada-test@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(project)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pipeline under test"], cwd=project, check=True)


def run_gitlab_ci_local(project: Path, *args: str, variables: dict[str, str] | None = None,
                        timeout: float = 600) -> Pipeline:
    """gitlab-ci-local in ``project`` with the shell executor and these job variables.

    HOME is a directory of the project, so a job's ``~/.ssh`` is never the tester's."""
    assert gitlab_ci_local_found(), (
        "gitlab-ci-local is not installed: `make install` installs it (npm, Node >= 20)")
    home = project / "home"
    home.mkdir(exist_ok=True)
    env_vars = {"HOME": str(home), **({"PIP_CACHE_DIR": pip_cache_dir()} if pip_cache_dir()
                                      else {}), **(variables or {})}
    cmd = [GITLAB_CI_LOCAL, "--force-shell-executor", "--no-color",
           "--evaluate-rule-changes=false", *args]
    for key, value in env_vars.items():
        cmd += ["--variable", f"{key}={value}"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=suite_env(),
                         cwd=project)
    return Pipeline(res.returncode, res.stdout + res.stderr, project)


def list_jobs(project: Path, variables: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The jobs gitlab-ci-local resolves in ``project`` (rules included, none run), with
    these pipeline variables (e.g. CI_COMMIT_TAG, which it does not derive from git)."""
    assert gitlab_ci_local_found(), "gitlab-ci-local is not installed (make install)"
    given = [a for k, v in (variables or {}).items() for a in ("--variable", f"{k}={v}")]
    res = subprocess.run([GITLAB_CI_LOCAL, "--list-json", "--evaluate-rule-changes=false",
                          *given],
                         capture_output=True, text=True, timeout=120, cwd=project,
                         env=suite_env())
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout)
