"""xdist where it pays: with the user's own tests and ``-n N``, the run split by target.

A profile run without user tests ignores ``-n`` (:func:`jada_checks.plugin.in_process`):
its work is waiting on targets, which one process already does concurrently. The user's
Testinfra tests are different: each call is a round trip over the target's login, made
one after another by pytest, so a run of many targets × many calls is bound by those
round trips, and workers running targets side by side divide it.

The rule that makes it pay and keeps one login per target: **every test of a target,
controls and user tests, runs on one worker**, and a worker logs in only to its own
targets, all of them at once, as soon as it knows them. The controller logs in to nothing.

Why a scheduler of our own (:class:`TargetScheduling`, via ``pytest_xdist_make_scheduler``)
and not ``--dist loadgroup`` with an ``xdist_group`` mark per target, as an earlier version
did: pytest-xdist 3.8's worker marks the group by rewriting ``item._nodeid``
(``remote.py``, ``WorkerInteractor.pytest_collection_modifyitems``), which pytest 9.2
no longer reads (``Node.nodeid`` is ``str(Node._id)``), so every test became its own group
and every worker logged in to every target. Even where it worked, loadgroup hands out
groups one at a time as workers run low, so a worker learns its next target only when it
gets there and cannot log in ahead; and its ``@target`` suffix leaked into every id.
Here the controller splits the targets up front, round robin in the profile's order
(:func:`split`), and hands each worker its share in ``workerinput`` (``pytest_configure_node``,
xdist's own channel to a worker). Each worker keeps only the items of its targets
(:func:`keep_mine`: it knows an item's target exactly, where the controller would have to
parse it out of a node id) and runs all of them; the scheduler sends each worker its whole
collection at once, as xdist's ``each`` scheduler does. A worker that replaces a crashed
one collects everything and is sent only the dead worker's unfinished items.

A worker logs in to its share in its ``pytest_configure`` (``config.workerinput`` is set
then), before it imports the user's test modules, all of its targets at once. Not earlier
(``start_early``, before conftest files load): there the only sign of a worker is xdist's
``PYTEST_XDIST_WORKER`` variable, which every process started from a worker inherits too
(a test that runs pytest in a subprocess), so it cannot tell a worker from a controller.

How many workers, decided before xdist starts any (:func:`decide`, :func:`plan`), so that
``-n`` is never slower than no workers: a worker costs a Python start-up, pytest, its
plugins, boto3 and Testinfra imported and the user's modules collected again (about 0.5 s
of CPU, measured: README "Speed"), and this process's early logins (started before
conftest files load) wait for the decision. So workers = the least of ``-n``,
``--maxprocesses``, the targets, and the user's Testinfra calls (counted from
their source: :mod:`jada_checks.run.workload`) divided by :data:`CALLS_PER_WORKER`; fewer
than two: none. The decision is made in ``pytest_load_initial_conftests`` when the
targets are known then (:func:`jada_checks.run.profile_run.start_early`), else in
``pytest_configure``, both before xdist's ``pytest_configure`` (trylast, ``xdist/plugin.py``
3.8) registers the ``DSession`` whose ``pytest_sessionstart`` starts the workers: without a
split this plugin sets ``dist`` to ``"no"`` first (:func:`jada_checks.plugin.in_process`),
so xdist starts none. The header, the terminal summary and ``--jada-stats-json`` (``xdist``)
say how many workers ran and why.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from jada_checks.run.worker_plan import CALLS_PER_WORKER, INI_CALLS, Plan, plan
from jada_checks.stash import DISTRIBUTED_KEY, PLAN_KEY

if TYPE_CHECKING:
    from jada_checks.profile import Target

# The key of a worker's share of targets in xdist's ``workerinput``.
SHARE = "jada_targets"


def requested(options: Any) -> int:
    """How many workers ``-n`` asked for (0: none). ``-n auto``/``logical`` is resolved to
    a number by xdist's ``pytest_cmdline_main`` (``xdist/plugin.py``, 3.8: its
    ``pytest_xdist_auto_num_workers`` hook, the CPUs); before that (in ``start_early``) it
    is resolved here the same way: :func:`auto_workers`."""
    n = getattr(options, "numprocesses", None)
    if n == "auto" or n == "logical":
        return auto_workers()
    try:
        return int(n or 0)
    except (TypeError, ValueError):
        return 0


def auto_workers() -> int:
    """What ``-n auto`` gives before xdist resolves it: ``$PYTEST_XDIST_AUTO_NUM_WORKERS``,
    else the CPUs this process may run on (xdist's fallback without psutil)."""
    env = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if env and env.isdigit():
        return int(env)
    return cpus()


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def user_tests(config: pytest.Config) -> bool:
    """Does this run collect the user's own tests (item 1 of issue 22)? Answered by
    :func:`jada_checks.run.own_checks.user_test_paths`, on the early config too."""
    from jada_checks.run.own_checks import user_test_paths

    return bool(user_test_paths(config))


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def split(names: Sequence[str], count: int) -> list[list[str]]:
    """Targets to workers, round robin in the profile's order: shares differ by at most
    one target, and the same names and count always give the same shares."""
    return [list(names[i::count]) for i in range(count)]


def share(config: pytest.Config) -> set[str] | None:
    """A worker's targets as the controller gave them; None: all (not a worker of a
    split run, or a replacement for a crashed worker)."""
    names = getattr(config, "workerinput", {}).get(SHARE)
    return None if names is None else set(names)


def start_targets(config: pytest.Config, targets: list[Target]) -> list[Target]:
    """The targets this process logs in to when the run starts: all of them in one process
    or the controller of an unsplit run, its share in a worker, none in the controller of
    a split run."""
    if DISTRIBUTED_KEY in config.stash:
        return []
    if is_worker(config):
        mine = share(config)
        return [] if mine is None else [t for t in targets if t.name in mine]
    return targets


def decide(config: pytest.Config, targets: list[Target], options: Any) -> Plan:
    """The :func:`plan` of this run, from what is known before any worker starts: ``-n``
    (``options``: the early or the full parse), the selected ``targets`` (after
    ``--jada-shard``) and the user's checks read statically
    (:func:`jada_checks.run.workload.estimate`, stopping once it reaches the point where
    the asked workers pay). Decided once per run: :func:`start_early` and :func:`settle`
    ask in turn and must agree (the early logins depend on it)."""
    known = config.stash.get(PLAN_KEY, None)
    if known is not None:
        return known
    asked = requested(options)
    if getattr(options, "dist", "load") == "no" and getattr(options, "numprocesses", None) == 0:
        asked = 0  # -n 0: xdist sets dist "no"
    paths = user_paths(config)
    calls = None
    per_worker = calls_per_worker(config)
    enough = per_worker * asked
    if asked and paths:
        from jada_checks.run.workload import estimate

        calls = estimate(paths, [(t.name, (t.ssh or {}).get("host")) for t in targets],
                         rootdir=config.invocation_params.dir, enough=enough,
                         **ini_patterns(config))
    decided = plan(asked, len(targets), calls, per_worker=per_worker,
                   maxprocesses=getattr(options, "maxprocesses", None),
                   at_least=calls is not None and calls >= enough)
    config.stash[PLAN_KEY] = decided
    return decided


def user_paths(config: pytest.Config) -> list[str]:
    from jada_checks.run.own_checks import user_test_paths

    return user_test_paths(config)


def calls_per_worker(config: pytest.Config) -> int:
    """ini ``jada_calls_per_worker``, else :data:`CALLS_PER_WORKER`; a bad value is a
    usage error naming the key."""
    try:
        raw = config.getini(INI_CALLS)
    except (ValueError, KeyError):
        return CALLS_PER_WORKER
    if raw in (None, ""):
        return CALLS_PER_WORKER
    try:
        value = int(str(raw).strip())
        if value < 0:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(f"ini {INI_CALLS} = {raw!r}: a whole number of Testinfra "
                                "calls, 0 or more (0: every -n splits the run)") from None
    return value


def ini_patterns(config: pytest.Config) -> dict[str, list[str]]:
    """pytest's own naming rules, to find test files and functions as it would."""
    out = {}
    for key in ("python_files", "python_functions", "python_classes", "norecursedirs"):
        try:
            out[key] = [str(v) for v in config.getini(key)]
        except (ValueError, KeyError):
            pass
    return out


def settle(config: pytest.Config, targets: list[Target]) -> bool:
    """In the controller, once the targets are known: split this run across workers?
    As :func:`decide` says: with user tests, ``-n N``, at least two targets and enough
    Testinfra calls; then xdist starts that many workers and :class:`Distribution` is
    registered. No: the caller runs it in this process (:func:`jada_checks.plugin.in_process`)
    and xdist starts no worker."""
    if is_worker(config):
        return False
    if getattr(config.option, "dist", "no") == "no" or config.option.collectonly:
        return False  # no -n (or -n 0); xdist: -n with --co starts no worker
    decided = decide(config, targets, config.option)
    n = decided.workers
    if n < 2:
        return False
    config.option.numprocesses = n
    config.option.tx = ["popen"] * n
    shares = split([t.name for t in targets], n)
    config.stash[DISTRIBUTED_KEY] = shares
    config.pluginmanager.register(Distribution(config, shares), "jada-distribution")
    return True


def header_line(config: pytest.Config) -> str | None:
    shares = config.stash.get(DISTRIBUTED_KEY, None)
    if shares is None:
        return None
    parts = "; ".join(f"gw{i}: {', '.join(s)}" for i, s in enumerate(shares))
    return (f"jada-checks: -n {len(shares)}: every test of a target runs on one worker, "
            f"which logs in to its own targets only (one login per target): {parts}")


def summary_line(config: pytest.Config) -> str | None:
    """How many workers this run used and why, for the header and the terminal summary
    (None: ``-n`` not asked, or ``--collect-only``, where xdist starts none anyway)."""
    decided = config.stash.get(PLAN_KEY, None)
    if decided is None or not decided.asked or config.option.collectonly:
        return None
    return f"jada-checks: {decided.why}"


def item_target(item: pytest.Item) -> str | None:
    """The target an item checks: a control's, or the one a user test is parametrized
    with (:func:`jada_checks.run.own_fixtures.target_of`); None for an item bound to no
    target."""
    from jada_checks.profile import Target
    from jada_checks.run.own_fixtures import target_of

    target = target_of(item) or getattr(item, "target", None)  # a ControlItem's
    return target.name if isinstance(target, Target) else None


def keep_mine(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a worker of a split run: keep only the items of this worker's targets (an item
    bound to no target stays with the first worker). Not a deselection: the other
    workers run them, so nothing is reported as deselected."""
    mine = share(config)
    if mine is None:
        return
    first = config.workerinput.get("workerid") == "gw0"  # type: ignore[attr-defined]
    items[:] = [i for i in items if (t := item_target(i)) in mine or (t is None and first)]


class Distribution:
    """Controller-side hooks of a split run (registered by :func:`settle`)."""

    def __init__(self, config: pytest.Config, shares: list[list[str]]) -> None:
        self.config = config
        self.shares = shares
        self.session: pytest.Session | None = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Each starting worker is told its targets; a replacement (numbered past the
        first ones) is told none and collects everything."""
        wid = node.workerinput["workerid"]
        slot = int(wid[2:]) if wid[2:].isdigit() else len(self.shares)
        node.workerinput[SHARE] = self.shares[slot] if slot < len(self.shares) else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        return TargetScheduling(config, self, log)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session


class TargetScheduling:
    """xdist's scheduler of a split run: each worker runs its whole (own) collection.

    Every worker collected only its targets' items (:func:`keep_mine`), so collections
    differ by design; their union is the run. A worker is sent all its items at once and
    told to shut down when done. A worker that dies leaves its unfinished items to the
    worker that replaces it, found there by node id. Implements xdist 3.8's
    ``Scheduling`` protocol (``xdist/scheduler/protocol.py``).
    """

    def __init__(self, config: pytest.Config, dist: Distribution, log: Any = None) -> None:
        self.config = config
        self.dist = dist
        self.numnodes = len(dist.shares)
        self.log = log.targetsched if log is not None else (lambda *a: None)
        self.collections: dict[Any, list[str]] = {}
        self.pending: dict[Any, list[int]] = {}
        self.started: set[Any] = set()
        self.orphans: list[str] = []  # node ids a dead worker did not finish
        self.collection_is_completed = False

    @property
    def nodes(self) -> list[Any]:
        return list(self.pending)

    @property
    def tests_finished(self) -> bool:
        if not self.collection_is_completed or self.orphans:
            return False
        return all(len(p) < 2 for p in self.pending.values())

    @property
    def has_pending(self) -> bool:
        return bool(self.orphans) or any(self.pending.values())

    def add_node(self, node: Any) -> None:
        assert node not in self.pending
        self.pending[node] = []

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        self.collections[node] = list(collection)
        if self.collection_is_completed:  # a replacement: the dead worker's unfinished items
            index = {nodeid: i for i, nodeid in enumerate(collection)}
            missing = [n for n in self.orphans if n not in index]
            if missing:
                self.log(f"not collected by {node.gateway.id}: {missing}")
            self.pending[node] = [index[n] for n in self.orphans if n in index]
            self.orphans = []
            return
        if len(self.collections) >= self.numnodes:
            self.collection_is_completed = True
            if self.dist.session is not None:  # xdist counted only the last worker's items
                self.dist.session.testscollected = sum(map(len, self.collections.values()))

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        self.pending[node].remove(item_index)

    def mark_test_pending(self, item: str) -> None:
        """Re-queueing one item (pytest-rerunfailures' crash path): not offered, as in
        xdist 3.8's own LoadScopeScheduling; a crashed worker is handled by remove_node."""
        raise NotImplementedError

    def remove_pending_tests_from_node(self, node: Any, indices: Sequence[int]) -> None:
        """Work stealing between workers: never, by design (a target stays on its worker,
        so its one login is not repeated); xdist calls it only for its work-stealing mode."""
        raise NotImplementedError

    def remove_node(self, node: Any) -> str | None:
        pending = self.pending.pop(node)
        if not pending:
            return None
        collection = self.collections[node]
        crashed = collection[pending[0]]
        self.orphans += [collection[i] for i in pending[1:]]
        return crashed

    def schedule(self) -> None:
        assert self.collection_is_completed
        for node, pending in self.pending.items():
            if node in self.started:
                continue
            self.started.add(node)
            if node in self.collections and not pending and \
                    node not in self.replacements():
                pending[:] = range(len(self.collections[node]))
            if pending:
                node.send_runtest_some(list(pending))
            node.shutdown()

    def replacements(self) -> set[Any]:
        """Workers numbered past the first ones: they replace crashed workers."""
        return {n for n in self.pending
                if not str(n.gateway.id)[2:].isdigit()
                or int(str(n.gateway.id)[2:]) >= self.numnodes}
