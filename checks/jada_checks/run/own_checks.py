"""The user's own checks: their test files, collected in a profile run beside the controls.

A profile run used to collect no file at all: the controls were the tests. With *user
test paths* it also collects those paths, and only those, as pytest normally would; every
test there that uses the ``host``, ``target`` or ``lightsail`` fixture is parametrized
over the profile's (selected) targets and becomes a control of its own
(:mod:`jada_checks.run.own_fixtures`, :mod:`jada_checks.run.own_records`). A profile run
without user test paths is exactly the run it always was.

Where the paths come from, the first that gives any:

1. the command line's positional arguments (``pytest --jada-profile p.yaml checks/``),
   as pytest reads them (``::`` node ids allowed);
2. the ini key ``jada_tests`` (paths, relative to the ini file), for a project whose
   compliance run always includes its checks;
3. pytest's own ``testpaths``, under pytest's own rule (only when pytest runs from the
   rootdir; globbed), but **not when the profile came from ``$JADA_PROFILE``**: an
   environment variable set for one job must not turn a project's ordinary test suite
   (which is what ``testpaths`` names) into checks of production hosts. In that takeover
   the project's tests are replaced, as before, and the header says so.

This module stays light (the plugin may ask for the paths in any run). Even then a
collected test that uses none of ``host``, ``target`` and ``lightsail`` is
no check of a target: it is deselected and the run says how many (it never runs).
"""

from __future__ import annotations

import glob
from typing import Any

import pytest

from jada_checks.options import SPECS, _resolve
from jada_checks.stash import SETTINGS_KEY

INI_TESTS = "jada_tests"


def _namespace(config: pytest.Config) -> Any:
    """The parsed options: the full parse once pytest has made it, else (in
    ``pytest_load_initial_conftests``) its first pass."""
    if hasattr(config.option, "file_or_dir"):
        return config.option
    return config.known_args_namespace


def user_test_paths(config: pytest.Config) -> list[str]:
    """The user's test paths of this run (see the module docstring for the order), or
    ``[]``: no user tests, the run is the controls alone. Works on the early config (in
    ``pytest_load_initial_conftests``) and on the full one; reads no file."""
    ns = _namespace(config)
    given = [str(a) for a in (getattr(ns, "file_or_dir", None) or [])]
    if given:
        return given
    try:
        ini = config.getini(INI_TESTS)
    except (ValueError, KeyError):  # not registered (plugin blocked): no ini paths
        ini = []
    if ini:
        return [str(p) for p in ini]
    resolved = config.stash.get(SETTINGS_KEY, {}).get("jada_profile")
    try:  # the command line's raw value: config.option holds the resolved one once set
        source = resolved.source if resolved else \
            _resolve(config, SPECS["jada_profile"], config.known_args_namespace).source
    except pytest.UsageError:
        source = "default"
    if source == "environment":
        return []
    return testpaths(config)


def testpaths(config: pytest.Config) -> list[str]:
    """pytest's ``testpaths`` as pytest itself would use them (``Config._decide_args``):
    only when invoked from the rootdir, each entry globbed relative to it."""
    if config.invocation_params.dir != config.rootpath:
        return []
    found: list[str] = []
    for path in config.getini("testpaths") or []:
        found += sorted(glob.iglob(str(config.rootpath / path), recursive=True))
    return found


# --- activation: called by profile_run.start when the run has user test paths ----------

TESTINFRA_OPTIONS = ("hosts", "connection", "ssh_config", "ssh_identity_file", "sudo",
                     "sudo_user", "ansible_inventory", "force_ansible", "nagios")


def activate(config: pytest.Config, paths: list[str]) -> None:
    """Make this profile run collect ``paths`` and register the fixtures and hooks of the
    user's checks. pytest-testinfra's own plugin (its ``host`` fixture parametrized by
    ``--hosts``) is taken out of this run: the profile's targets are the hosts here, and
    two ``host`` fixtures would otherwise depend on plugin load order. Its options make no
    sense in a profile run; given, they are a usage error rather than silently unused."""
    given = [f"--{o.replace('_', '-')}" for o in TESTINFRA_OPTIONS
             if getattr(config.option, o, None) not in (None, False)]
    if given:
        raise pytest.UsageError(
            f"{', '.join(given)}: pytest-testinfra's option(s) for a plain Testinfra run; in "
            "a profile run your tests run against the profile's targets over the suite's own "
            "SSH settings (narrow them with pytest.mark.jada_targets or testinfra_hosts)")
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = list(paths)  # ini jada_tests (or testpaths, the same as pytest's)
        config.args_source = pytest.Config.ArgsSource.ARGS
    pm = config.pluginmanager
    for name, plugin in list(pm.list_name_plugin()):
        if getattr(plugin, "__name__", None) == "testinfra.plugin":
            pm.unregister(plugin, name)
    from jada_checks.run import own_fixtures, own_records

    pm.register(own_fixtures, "jada-own-fixtures")
    pm.register(own_records, "jada-own-records")
    pm.register(own_records.WorkerGuard(), "jada-own-worker-guard")
    config.addinivalue_line("markers", "area_own: your own checks (user tests)")
