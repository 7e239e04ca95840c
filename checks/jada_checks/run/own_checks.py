"""The user's own checks: their test files, collected in a profile run beside the controls.

A profile run used to collect no file at all: the controls were the tests. With *user
test paths* it also collects those paths, and only those, as pytest normally would; every
test there that uses the ``host``, ``target`` or ``lightsail`` fixture is parametrized
over the profile's (selected) targets and becomes a control of its own
(:mod:`jada_checks.run.own_items`). A profile run without user test paths is exactly the
run it always was.

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

Even then a collected test that uses none of ``host``, ``target`` and ``lightsail`` is
no check of a target: it is deselected and the run says how many (it never runs).
"""

from __future__ import annotations

import glob
from typing import Any

import pytest

from jada_checks.options import SPECS, _resolve

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
    try:
        source = _resolve(config, SPECS["jada_profile"], ns).source
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
