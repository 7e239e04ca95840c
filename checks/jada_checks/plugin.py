"""The pytest plugin (entry point ``jada``): a profile in, one test item per control × target.

Installed, this module loads in every pytest run of every project on the machine, so it
only registers the ``--jada-*`` options and ``jada_*`` ini keys and imports nothing heavy
(no jsonschema, YAML, boto3 or Testinfra; ``tests/test_lazy_imports.py`` checks that).
Only with a profile (``--jada-profile``, ``$JADA_PROFILE`` or ini ``jada_profile``) does it
load :mod:`jada_checks.run.profile_run`, where the run *is* the control catalogue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from jada_checks.model import SEVERITIES
from jada_checks.options import CORE, add_options, early_setting, resolve, setting

if TYPE_CHECKING:
    pass



def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser, CORE)
    parser.addini("jada_tests", "your own checks: test paths a profile run collects beside the "
                  "controls when the command line names none (relative to the ini file; "
                  "jada_checks.run.own_checks)", type="paths", default=[])
    parser.addini("jada_calls_per_worker", "your own checks with -n N: the Testinfra calls "
                  "each xdist worker must have to make for the run to start it (default 50, "
                  "measured; 0: always split; jada_checks.run.workers.plan)", default="")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """With a profile, start every target's SSH login and fact script now, before pytest
    imports conftest files.

    A project's conftest files (this repository's own import hypothesis: about 0.3 s) load
    before ``pytest_configure``; the logins need only the profile. Whatever this early
    attempt cannot do, :func:`jada_checks.run.profile_run.start` does again and reports.
    """
    ns = early_config.known_args_namespace
    if getattr(ns, "help", False) or getattr(ns, "version", False) or \
            getattr(ns, "jada_list_controls", False):
        return
    try:
        profile = early_setting(early_config, "jada_profile").value
    except pytest.UsageError:
        return
    if profile:
        from jada_checks.run import profile_run

        profile_run.start_early(early_config, str(profile))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("jada_list_controls"):
        print_catalogue()
        return 0
    resolve(config, CORE)
    keep_rootdir(config)
    return None


def keep_rootdir(config: pytest.Config) -> None:
    """``--jada-profile ../elsewhere/p.yaml`` must not move pytest's rootdir.

    pytest picks the rootdir before plugins register their options, so it takes the
    value of ``--jada-profile PATH`` for a test path and uses the common ancestor of the
    cwd and the profile's directory: ``../`` in ids, a stray ``.pytest_cache`` up there.
    Decide again without it; adopt the answer only if it finds the same ini file (the ini
    values are already read), and never against an explicit ``--rootdir``.
    """
    if config.option.rootdir or setting(config, "jada_profile").source != "option":
        return
    from _pytest.config.findpaths import determine_setup

    rootpath, inipath, *_ = determine_setup(
        inifile=config.option.inifilename, override_ini=config.option.override_ini,
        args=list(config.option.file_or_dir or []), rootdir_cmd_arg=None,
        invocation_dir=config.invocation_params.dir)
    if inipath == config.inipath and rootpath != config.rootpath:
        config._rootpath = rootpath  # noqa: SLF001 - no public setter; set before any use


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    """Nothing collected and no profile: say how to check targets, once. Projects with
    their own tests (collected, or deselected by -k) never see this."""
    if config.option.jada_profile or exitstatus != pytest.ExitCode.NO_TESTS_COLLECTED:
        return
    if getattr(terminalreporter, "_numcollected", 0):
        return
    terminalreporter.write_line(
        "jada-checks: no tests collected and no profile given; to check targets run "
        "pytest --jada-profile PROFILE.yaml (or set $JADA_PROFILE, or jada_profile in "
        "pytest.ini)", yellow=True)


def print_catalogue() -> None:
    from jada_checks.controls import catalogue  # imports every control module

    for c in catalogue():
        print(f"{c.id:<14} {c.severity:<9} {c.side:<10} {c.title}")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for sev in SEVERITIES:
        config.addinivalue_line("markers", f"severity_{sev}: controls of severity {sev}")
    # Your own checks (README "Writing your own checks"); registered in every run, so a
    # project's checks also run under --strict-markers without a profile.
    config.addinivalue_line("markers", "jada(id=None, severity='medium', title=None, "
                            "remediation=None): this test is a jada-checks control in a "
                            "profile run: its id, severity, title and remediation")
    config.addinivalue_line("markers", "jada_targets(*patterns): in a profile run, run this "
                            "test only against targets whose name matches a pattern (fnmatch)")
    resolve(config, CORE)
    if not config.option.jada_profile:
        return
    from jada_checks.run import profile_run  # the heavy part: profile, facts, controls

    profile_run.start(config, setting(config, "jada_profile"))
    if not profile_run.split_across_workers(config):
        in_process(config)


def in_process(config: pytest.Config) -> None:
    """A profile run without the user's own tests ignores ``-n``: it checks every target
    in this one process.

    Why: the work is waiting on targets, and this process already gathers every target
    concurrently (one SSH login and one command each, started as soon as the profile is
    known), while the controls are pure functions of the facts that take microseconds.
    xdist would add a second and third pytest start-up and its per-item cost (sending each
    item's report to the controller) and, before this, one gather after another per
    worker: measured 2.4x slower at 24 hosts (``make bench``; README "Speed"). Runs after
    xdist's own option handling (this hook is tryfirst, xdist's pytest_configure trylast),
    so xdist never starts a worker.

    With user tests (Testinfra calls: one round trip each, one after another), at least
    two targets and enough calls, ``-n N`` does pay: :func:`jada_checks.run.profile_run.start`
    has then split the run by target (:mod:`jada_checks.run.workers`) and this is not
    called. Whether it pays and why (:func:`jada_checks.run.workers.plan`) is said in the
    header and the terminal summary.
    """
    if hasattr(config.option, "dist"):
        config.option.dist = "no"
        config.option.tx = []
