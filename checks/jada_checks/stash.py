"""Every pytest stash key of the suite, in one place.

The plugins and the run hand state to each other through ``config.stash``; keeping the keys
here, apart from the modules that fill them, lets the run flow one way (plugin -> run ->
reporting) with no module importing another only for a key. Light on purpose: the plugins
import it in every pytest run, so the types are named for the type checker only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from jada_checks.context import FactStore
    from jada_checks.profile import Profile
    from jada_checks.run.worker_plan import Plan
    from jada_checks.setting import Setting

# The loaded profile of a profile run (jada_checks.plugin, jada_checks.run.profile_run).
PROFILE_KEY: pytest.StashKey[Profile] = pytest.StashKey()
# How a profile run uses -n: workers started and why (run.workers.decide, once per run).
PLAN_KEY: pytest.StashKey[Plan] = pytest.StashKey()
# A run split across xdist workers by target: the targets of each worker, gw0 first
# (run.workers; absent when the run stays in one process).
DISTRIBUTED_KEY: pytest.StashKey[list[list[str]]] = pytest.StashKey()
# Where the profile came from: command line, environment or ini (run.profile_run).
SOURCE_KEY: pytest.StashKey[Setting] = pytest.StashKey()
# The per-process fact cache: one SSH login and one fact gathering per target.
STORE_KEY: pytest.StashKey[FactStore] = pytest.StashKey()
# Facts started before conftest files load: (profile path, profile, fact store).
EARLY_KEY: pytest.StashKey[tuple[str, Profile, FactStore]] = pytest.StashKey()
# Per-target timings of this process, for --jada-stats-json and the workers' output.
STATS_KEY: pytest.StashKey[list[dict[str, Any]]] = pytest.StashKey()
# Every --jada-* option as resolved: command line > $JADA_PROFILE > ini (options).
SETTINGS_KEY: pytest.StashKey[dict[str, Setting]] = pytest.StashKey()
# --jada-retry-failed-within: seconds a failing control is looked at again (reporting).
RETRY_KEY: pytest.StashKey[float] = pytest.StashKey()
# The monotonic time by which convergence retries stop (run.convergence).
DEADLINE_KEY: pytest.StashKey[float] = pytest.StashKey()
# Your own checks (run.own_checks): the user's test paths of this profile run ([] : none).
USER_PATHS_KEY: pytest.StashKey[list[str]] = pytest.StashKey()
# Usage problems of the user's checks found while collecting, raised together after it.
PROBLEMS_KEY: pytest.StashKey[list[str]] = pytest.StashKey()
# How many collected tests were not run as checks, by why (run.own_fixtures).
DROPPED_KEY: pytest.StashKey[dict[str, int]] = pytest.StashKey()
