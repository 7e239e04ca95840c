"""Your own checks' fixtures: ``target``, ``host`` and ``lightsail``, each test parametrized
over the profile's selected targets (``test_name[target]``), narrowed by
``pytest.mark.jada_targets`` and Testinfra's ``testinfra_hosts``.

Registered as a plugin by :func:`jada_checks.run.own_checks.activate`, only in a profile
run with user test paths; outside one, ``host`` is pytest-testinfra's own (if installed).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from jada_checks.model import CheckError
from jada_checks.profile import Target
from jada_checks.run.shard import selected
from jada_checks.stash import PROBLEMS_KEY, PROFILE_KEY, STORE_KEY

NO_TARGET_ID = "no-target"


def problems(config: pytest.Config) -> list[str]:
    """Usage errors found while collecting (a bad mark, a bad ``testinfra_hosts``): raised
    together as one usage error once collection is done, not as a collection error."""
    return config.stash.setdefault(PROBLEMS_KEY, [])


def _patterns(values: Any, where: str, config: pytest.Config) -> list[str] | None:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not values or \
            not all(isinstance(v, str) and v for v in values):
        problems(config).append(f"{where}: expected one or more target names or fnmatch "
                                f"patterns (strings), got {values!r}")
        return None
    return list(values)


def testinfra_host_name(spec: str) -> str:
    """The host part of a Testinfra host spec: ``ssh://user@web-1:2222?sudo=true`` ->
    ``web-1``; a plain name stays as it is."""
    rest = spec.split("://", 1)[1] if "://" in spec else spec
    rest = rest.split("?", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):  # [v6]:port
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def narrow(metafunc: pytest.Metafunc, targets: list[Target]) -> list[Target]:
    """The targets a test runs against after its ``jada_targets`` marks (function, class
    and module: each narrows further) and its module's ``testinfra_hosts``."""
    name = metafunc.definition.nodeid
    for mark in metafunc.definition.iter_markers("jada_targets"):
        pats = _patterns(list(mark.args), f"{name}: pytest.mark.jada_targets", metafunc.config)
        if mark.kwargs:
            problems(metafunc.config).append(f"{name}: pytest.mark.jada_targets takes "
                                             f"patterns only, not {sorted(mark.kwargs)}")
        if pats is None:
            return []
        targets = [t for t in targets if any(fnmatchcase(t.name, p) for p in pats)]
    hosts = getattr(metafunc.module, "testinfra_hosts", None)
    if hosts is not None:
        pats = _patterns(hosts, f"{metafunc.module.__name__}.testinfra_hosts",
                         metafunc.config)
        if pats is None:
            return []
        wanted = [testinfra_host_name(p) for p in pats]
        targets = [t for t in targets if any(
            fnmatchcase(t.name, w) or (t.ssh is not None and t.ssh.get("host") == w)
            for w in wanted)]
    return targets


@pytest.hookimpl(trylast=True)  # after pytest's own parametrize marks: the target id is last
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses ``target``, ``host`` or ``lightsail`` runs once per selected
    target (after ``--jada-shard``), id ``test_name[target]``. A test of ``host`` skips
    targets without ``ssh``, one of ``lightsail`` those without ``lightsail``: as a control
    of that side would, it gets no item there."""
    if "jada_target" not in metafunc.fixturenames:
        return
    config = metafunc.config
    targets = selected(config.stash[PROFILE_KEY].targets, config.getoption("jada_shard"),
                       lambda t: t.name)
    if "jada_ssh_target" in metafunc.fixturenames:
        targets = [t for t in targets if t.ssh is not None]
    if "jada_lightsail_target" in metafunc.fixturenames:
        targets = [t for t in targets if t.lightsail is not None]
    targets = narrow(metafunc, targets)
    params = [pytest.param(t, id=t.name) for t in targets] or \
        [pytest.param(None, id=NO_TARGET_ID)]  # deselected after collection
    metafunc.parametrize("jada_target", params, indirect=True, scope="module")


def target_of(item: pytest.Item) -> Target | None:
    """The profile target a user test item runs against (None: not a user check). For
    xdist's scheduling by target and for the records."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    value = callspec.params.get("jada_target")
    return value if isinstance(value, Target) else None


def is_user_check(item: pytest.Item) -> bool:
    return target_of(item) is not None


# --- the fixtures ------------------------------------------------------------------------


class OwnCheckErrored(pytest.fail.Exception):  # type: ignore[name-defined]
    """A user test could not look (unreachable target, no AWS client): an *error* in
    setup whose message is the cause, shown without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message, pytrace=False)


@pytest.fixture(scope="module")
def jada_target(request: pytest.FixtureRequest) -> Target:
    """The target this test item runs against (the parameter of every user check)."""
    return request.param


@pytest.fixture(scope="module")
def target(jada_target: Target) -> Target:
    """The profile's target: ``name``, ``ssh``, ``lightsail`` (``instance``, ``region``),
    ``expect`` (the expectations with the schema's defaults filled in)."""
    return jada_target


@pytest.fixture(scope="module")
def jada_ssh_target(jada_target: Target) -> Target:
    """The target, for a fixture that needs its ``ssh`` section (parametrization leaves
    out targets without one)."""
    return jada_target


@pytest.fixture(scope="module")
def jada_lightsail_target(jada_target: Target) -> Target:
    """The target, for a fixture that needs its ``lightsail`` section."""
    return jada_target


def unreachable_message(target: Target, exc: BaseException) -> str:
    """The same words as the controls' (``FactStore.host_facts``): the reports group the
    target's errors by this message and print its cause and fix once."""
    ssh = target.ssh or {}
    return f"unreachable: {ssh.get('user')}@{ssh.get('host')}:{ssh.get('port')}: {exc}"


@pytest.fixture(scope="module")
def host(jada_ssh_target: Target, request: pytest.FixtureRequest) -> Any:
    """A ``testinfra.host.Host`` for the target, over the suite's own SSH connection to it
    (the profile's user, port, key, known_hosts, timeouts, sudo and key exchange): the
    built-in facts and your tests share one login per target."""
    from jada_checks.facts.remote import Unreachable

    store = request.config.stash[STORE_KEY]
    try:
        return store.testinfra_host(jada_ssh_target)
    except Unreachable as exc:
        raise OwnCheckErrored(unreachable_message(jada_ssh_target, exc)) from None


@pytest.fixture(scope="module")
def lightsail(jada_lightsail_target: Target, request: pytest.FixtureRequest) -> Any:
    """A boto3 Lightsail client for the target's region, made as the suite makes its own
    (the profile's ``aws``: endpoint, credentials, retries, timeouts); one per region."""
    from jada_checks.aws.lightsail import AwsSettings, boto_client

    region = (jada_lightsail_target.lightsail or {})["region"]
    try:
        return boto_client(AwsSettings.from_profile(request.config.stash[PROFILE_KEY].aws),
                           region)
    except CheckError as exc:
        raise OwnCheckErrored(str(exc)) from None
