"""Options: prefixed names, ini equivalents, precedence, and a header that says what runs.

Each case runs the real suite in a subprocess from a throwaway project directory (with
its own ini file), against a closed SSH port, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jada_checks.options import CORE, REPORTING

TARGETS = """\
  - name: {name}
    ssh: {{host: 127.0.0.1, port: 1, known_hosts: known_hosts, connect_timeout: 2}}
"""
ONLY_UNIT = ("-k", "JADA-UNIT-01")


def profile(where: Path, names: tuple[str, ...] = ("web-1",), file: str = "p.yaml") -> Path:
    (where / "known_hosts").touch()
    path = where / file
    path.write_text("version: 1\ntargets:\n" + "".join(TARGETS.format(name=n) for n in names))
    return path


def project(tmp_path: Path, ini: str) -> Path:
    """A project with ``pytest.ini`` at its root and a subdirectory to run pytest from."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n" + ini)
    (tmp_path / "sub").mkdir()
    return tmp_path / "sub"


def pytest_in(cwd: Path, *args: str, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=120)


def header_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("jada-checks "))


def test_every_option_is_prefixed() -> None:
    """No bare names: pytest-profiling's --profile broke every pytest start."""
    for spec in (*CORE, *REPORTING):
        assert spec.flag.startswith("--jada-") and spec.dest.startswith("jada_"), spec


def test_ini_profile_is_relative_to_the_ini_file(tmp_path: Path) -> None:
    profile(tmp_path, ("web-1", "web-2"))
    res = pytest_in(project(tmp_path, "jada_profile = p.yaml\n"), "--co")
    assert res.returncode == 0, res.stdout + res.stderr
    assert header_line(res.stdout) == (
        f"jada-checks {__import__('jada_checks').__version__}: profile {tmp_path / 'p.yaml'} "
        f"(from ini jada_profile in {tmp_path / 'pytest.ini'}), 2 targets: web-1, web-2")
    assert "JADA-UNIT-01[web-2]" in res.stdout


def test_environment_beats_ini_and_says_so(tmp_path: Path) -> None:
    profile(tmp_path)
    other = profile(tmp_path, ("env-1",), file="env.yaml")
    sub = project(tmp_path, "jada_profile = p.yaml\n")
    res = pytest_in(sub, "--co", env={"JADA_PROFILE": str(other)})
    assert res.returncode == 0, res.stdout + res.stderr
    head = header_line(res.stdout)
    assert f"profile {other} (from environment $JADA_PROFILE; overrides jada_profile in " \
           f"{tmp_path / 'pytest.ini'}), 1 target: env-1" in head
    # quiet runs have no header: the summary says it too
    quiet = pytest_in(sub, "--co", "-q", env={"JADA_PROFILE": str(other)})
    assert "JADA-UNIT-01[env-1]" in quiet.stdout
    assert f"$JADA_PROFILE is set, so this run checks the targets of {other} instead of " \
           "collecting this project's tests" in quiet.stdout


def test_option_beats_environment(tmp_path: Path) -> None:
    chosen = profile(tmp_path, ("opt-1",), file="opt.yaml")
    env_profile = profile(tmp_path, ("env-1",), file="env.yaml")
    res = pytest_in(tmp_path, "--co", "--jada-profile", str(chosen),
                    env={"JADA_PROFILE": str(env_profile)})
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"profile {chosen} (from --jada-profile; overrides $JADA_PROFILE)" in \
        header_line(res.stdout)
    assert "instead of collecting" not in res.stdout


def test_environment_takeover_of_an_unrelated_project_is_visible(tmp_path: Path) -> None:
    prof = profile(tmp_path)
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "test_own.py").write_text("def test_own():\n    pass\n")
    alone = pytest_in(proj, "--co", "-q")
    assert alone.returncode == 0 and "test_own.py::test_own" in alone.stdout
    taken = pytest_in(proj, "--co", "-q", env={"JADA_PROFILE": str(prof)})
    assert "test_own" not in taken.stdout and "JADA-UNIT-01[web-1]" in taken.stdout
    assert "$JADA_PROFILE is set" in taken.stdout and "unset it to run them" in taken.stdout


def test_many_targets_are_shortened_in_the_header(tmp_path: Path) -> None:
    prof = profile(tmp_path, tuple(f"t{i}" for i in range(1, 9)))
    res = pytest_in(tmp_path, "--co", "--jada-profile", str(prof))
    assert header_line(res.stdout).endswith("8 targets: t1, t2, t3, t4, t5, ... (+3 more)")


def test_ini_report_options_with_option_precedence(tmp_path: Path) -> None:
    profile(tmp_path)
    sub = project(tmp_path, "jada_profile = p.yaml\njada_report_json = out/r.json\n"
                            "jada_fail_on = critical\n")
    res = pytest_in(sub, *ONLY_UNIT)
    report = tmp_path / "out" / "r.json"  # next to the ini file, not in the cwd
    assert report.exists(), res.stdout + res.stderr
    assert json.loads(report.read_text())["run"]["options"]["fail_on"] == "critical"
    assert res.returncode == 1  # UNIT-01 is critical and errors: unreachable
    res = pytest_in(sub, "--jada-fail-on", "info", *ONLY_UNIT)
    assert json.loads(report.read_text())["run"]["options"]["fail_on"] == "info"


@pytest.mark.parametrize(("ini", "words"), [
    ("jada_fail_on = severe", "jada_fail_on in {ini}: 'severe' is not one of critical, high"),
    ("jada_fail_on_drift = maybe", "jada_fail_on_drift in {ini}: invalid truth value 'maybe'"),
    ("jada_retry_timeout = soon", "jada_retry_timeout in {ini}: 'soon' is not a duration"),
    ("jada_shard = 3/2", "jada_shard in {ini}: '3/2': need 1 <= I <= N"),
    ("jada_waivers = nowhere.yaml", "waivers {root}/nowhere.yaml: no such file"),
])
def test_bad_ini_values_exit_4_naming_file_and_key(tmp_path: Path, ini: str, words: str) -> None:
    profile(tmp_path)
    res = pytest_in(project(tmp_path, f"jada_profile = p.yaml\n{ini}\n"), "--co")
    assert res.returncode == 4, res.stdout + res.stderr
    assert words.format(ini=tmp_path / "pytest.ini", root=tmp_path) in res.stderr
    assert "Traceback" not in res.stdout + res.stderr


def test_ini_profile_missing_names_the_ini_file(tmp_path: Path) -> None:
    res = pytest_in(project(tmp_path, "jada_profile = gone.yaml\n"), "--co")
    assert res.returncode == 4
    assert f"profile {tmp_path / 'gone.yaml'}: no such file" in res.stderr
    assert f"named by jada_profile in {tmp_path / 'pytest.ini'}" in res.stderr


def test_ini_report_settings_without_a_profile_leave_ordinary_runs_alone(tmp_path: Path) -> None:
    """A project may keep its compliance settings in its ini and still run its own tests."""
    sub = project(tmp_path, "jada_report_json = r.json\njada_fail_on_drift = true\n")
    (sub / "test_own.py").write_text("def test_own():\n    pass\n")
    res = pytest_in(sub)
    assert res.returncode == 0 and "1 passed" in res.stdout, res.stdout + res.stderr
    assert not (tmp_path / "r.json").exists()


def test_profile_outside_the_cwd_does_not_move_the_rootdir(tmp_path: Path) -> None:
    (tmp_path / "here").mkdir()
    (tmp_path / "there").mkdir()
    prof = profile(tmp_path / "there")
    res = pytest_in(tmp_path / "here", "--jada-profile",
                    os.path.relpath(prof, tmp_path / "here"), *ONLY_UNIT, "--jada-report-json",
                    "r.json")
    assert f"rootdir: {tmp_path / 'here'}" in res.stdout, res.stdout
    assert "../" not in res.stdout, res.stdout
    assert json.loads((tmp_path / "here" / "r.json").read_text())["records"]


def test_empty_project_without_profile_gets_one_hint(tmp_path: Path) -> None:
    res = pytest_in(tmp_path)
    assert res.returncode == 5 and res.stdout.count("no profile given; to check targets run "
                                                    "pytest --jada-profile PROFILE.yaml") == 1


def test_project_with_its_own_tests_gets_no_hint(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    res = pytest_in(tmp_path, "-k", "nothing-matches")
    assert res.returncode == 5 and "jada-profile" not in res.stdout
    assert "jada-profile" not in pytest_in(tmp_path).stdout
