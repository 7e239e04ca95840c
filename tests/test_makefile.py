"""What ``make`` would run (``make -n -B``, nothing executed): everything from the project
venv, the demo installing only what it needs. tests/sandbox/test_fresh_debian.py runs
``make install`` for real on a pristine Debian 12.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.ci_support import REPO

TEST_ONLY_APT = {"sudo", "chromium", "shellcheck", "rsync", "nftables", "npm",
                 "prometheus-node-exporter", "prometheus-pushgateway"}
TEST_ONLY = ("chromium", "npm install", "node-linux-", "gitlab-ci-local", "'.[test]'")
DEMO_NEEDS = ("systemd-container", "openssh-server", "openssh-client", "iproute2", "procps",
              "openssl", "python3")


def dry_run(*targets: str) -> list[str]:
    """The commands of ``targets`` as make would run them from scratch."""
    res = subprocess.run(["make", "-n", "-B", "--no-print-directory", *targets], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


def apt_packages(lines: list[str]) -> set[str]:
    return {p for line in lines for m in re.finditer(r"for p in ([^;]*);", line)
            for p in m[1].split()}


def python_commands(lines: list[str]) -> list[str]:
    """Every command line that runs a Python (pip, pytest, ruff, the demo...)."""
    return [ln for ln in lines if re.search(r"(^|\s)\S*python3?\s+-[mc]", ln)]


@pytest.mark.parametrize("target", ["install", "demo", "test", "test-fast", "test-releases",
                                    "bench", "lint", "down"])
def test_everything_runs_from_the_venv(target: str) -> None:
    making_the_venv = dry_run(".venv/bin/python")  # the one use of PYTHON3 (python3)
    lines = dry_run(target)
    commands = [ln for ln in python_commands(lines) if ln not in making_the_venv]
    assert commands or target == "down", lines
    for line in commands:
        uses = re.findall(r"(?:^|\s)(\S*python3?)\s+-[mc]", line)
        assert uses and set(uses) <= {".venv/bin/python"}, line


def test_the_venv_comes_from_apt_when_python_or_venv_is_missing() -> None:
    lines = dry_run(".venv/bin/python")
    assert "command -v python3" in lines[0] and "python3 python3-venv" in lines[0]
    assert "import ensurepip, venv" in lines[1] and "for p in python3-venv;" in lines[1]
    assert lines[2] == "python3 -m venv .venv"


def test_demo_installs_only_what_the_demo_needs() -> None:
    demo = dry_run("demo")
    text = "\n".join(demo)
    assert set(DEMO_NEEDS) <= apt_packages(demo)
    assert apt_packages(demo) & TEST_ONLY_APT == set()
    for name in TEST_ONLY:
        assert name not in text, f"make demo installs {name}"
    assert ".venv/bin/python -m pip install -q --disable-pip-version-check " \
           "-c ci/constraints.txt -e ." in demo
    assert demo[-1] == ".venv/bin/python -m jada_checks.dev.demo"


def test_install_brings_everything_the_tests_need() -> None:
    lines = dry_run("install")
    text = "\n".join(lines)
    assert set(DEMO_NEEDS) | TEST_ONLY_APT - {"npm"} <= apt_packages(lines)
    assert "-c ci/constraints.txt -e '.[test]'" in text
    assert "node-linux-" in text and "gitlab-ci-local@4.73.0" in text
    assert "npm install -g --prefix" in text  # under .venv/node, never the system's /usr


def test_the_node_check_says_whether_node_is_new_enough() -> None:
    """The check that decides whether Node 20 is installed answers with an exit code
    (a boolean for process.exit throws on Node 20, which made make install it always)."""
    (script,) = {m[1] for line in dry_run("install")
                 for m in re.finditer(r"node -e '([^']*)'", line)}
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    major = int(node.stdout.strip().lstrip("v").split(".")[0])
    res = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert (res.returncode, res.stderr) == (0 if major >= 20 else 1, "")
