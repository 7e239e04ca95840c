"""A few hundred targets on one runner under ``ulimit -n 1024`` (sandbox/fleet.py).

The fleet replay host answers on 16 ports, each standing for its own host, with the facts
its real sshd gave to the real fact script; so every target must get exactly the outcomes
the host itself gets, none may be unreachable, and the runner must stay within its bounds:
at most ``ssh.max_parallel`` ssh processes (the pacer's own count, and what the process
table shows from outside), at most 8 logins per sshd not yet authenticated, fewer than
1024 descriptors, and under 400 MiB. The 1,000-target row is ``make bench``
(dev/fleet_bench.py): about 2 minutes here, too long for ``make test``.
This module boots its own one-host sandbox (``replayfleet-<pid>``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jada_checks.dev import fleet_bench
from jada_checks.sandbox import fleet
from jada_checks.sandbox.sandbox import Sandbox
from tests.support.sandbox_harness import SANDBOX_ENV, SandboxHarness

pytestmark = pytest.mark.sandbox

SIZE = 300


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxHarness, Path]]:
    sb = Sandbox(f"replayfleet-{os.getpid()}")
    work = tmp_path_factory.mktemp("fleet")
    try:
        host_profile = fleet.boot(sb, work)
        yield SandboxHarness(sb, work), host_profile
    finally:
        sb.down()


def env() -> dict[str, str]:
    out = {**os.environ, **SANDBOX_ENV}
    out.pop("JADA_PROFILE", None)
    return out


def test_300_targets_under_ulimit_1024_all_as_the_host_itself(
        replay: tuple[SandboxHarness, Path], tmp_path: Path) -> None:
    harness, host_profile = replay
    run = harness.run_suite([], profile=host_profile)
    # the host's own controls (the fleet's targets have no Lightsail or HTTP section)
    itself = {c: o for c, o in run.outcomes(fleet.HOST).items()
              if not c.startswith(("JADA-LS-", "JADA-HTTP-"))}
    assert len(itself) == 20 and set(itself.values()) == {"pass"}, run.output[-3000:]

    profile = fleet.profile(harness.sandbox, host_profile, SIZE, tmp_path / "fleet.yaml")
    row = fleet_bench.run_suite(profile, tmp_path / "run", env(), "-p", "no:xdist")
    doc = json.loads((tmp_path / "run" / "report.json").read_text())
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    print(f"{SIZE} targets: {json.dumps(row)}")

    assert row["unreachable"] == 0, (row, doc["unreachable"][:3])
    by_target: dict[str, dict[str, str]] = {}
    for r in doc["records"]:
        by_target.setdefault(r["target"], {})[r["control"]] = r["outcome"]
    assert len(by_target) == SIZE
    wrong = {t: o for t, o in by_target.items() if o != itself}
    assert not wrong, list(wrong.items())[:3]
    assert all(t["commands"] == 1 for t in stats["targets"].values()), "one script each"

    (worker,) = stats["workers"]
    assert worker["ssh_max_parallel"] == 64
    assert 1 <= worker["ssh_peak_processes"] <= 64, worker
    assert worker["ssh_peak_unauthenticated_per_endpoint"] <= 8, worker
    assert row["peak_ssh_processes"] <= 64, row  # seen from outside, as a cross-check
    assert row["peak_open_fds"] < fleet_bench.NOFILE, row
    assert row["peak_rss_mib"] <= 400, row


def test_ssh_max_parallel_caps_the_ssh_processes(replay: tuple[SandboxHarness, Path],
                                                 tmp_path: Path) -> None:
    harness, host_profile = replay
    profile = fleet.profile(harness.sandbox, host_profile, 48, tmp_path / "fleet.yaml",
                            ssh={"max_parallel": 4})
    row = fleet_bench.run_suite(profile, tmp_path / "run", env(), "-p", "no:xdist")
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    (worker,) = stats["workers"]
    doc = json.loads((tmp_path / "run" / "report.json").read_text())
    assert row["unreachable"] == 0 and row["outcomes"] == {"pass": 48 * 20}, \
        (row, doc["unreachable"][:3])
    assert worker["ssh_max_parallel"] == 4
    assert worker["ssh_peak_processes"] == 4, worker  # reached, never passed
    assert row["peak_ssh_processes"] <= 4, row
