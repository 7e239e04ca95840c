"""40 targets behind ONE sandbox sshd (same address and port), at sshd's default MaxStartups.

sshd (default ``MaxStartups 10:30:100``, sshd_config(5)) drops unauthenticated connections
beyond 10 with a reset before the banner exchange. Started all at once, 12 of 40 healthy
targets were reported "connection reset by the target" (issue 25). Paced (facts/pacing.py:
at most 8 unauthenticated logins per endpoint, pre-auth resets retried), none is.
This module boots its own one-host sandbox (``onesshd-<pid>``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from jada_checks.sandbox.sandbox import Sandbox
from tests.support.sandbox_harness import HOSTS_DIR, SandboxHarness

pytestmark = pytest.mark.sandbox

HOST = "one-sshd"
NAMES = [f"t-{i:02d}" for i in range(1, 41)]


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHarness]:
    sb = Sandbox(f"onesshd-{os.getpid()}")
    work = tmp_path_factory.mktemp("onesshd")
    try:
        sb.up({HOST: str(HOSTS_DIR / "compliant")}, work / "listed.yaml")
        yield SandboxHarness(sb, work)
    finally:
        sb.down()


def forty_names_one_sshd(one: SandboxHarness, path: Path) -> Path:
    """The host's own target, copied under 40 names: same address, port, key, expect."""
    profile = yaml.safe_load(one.profile_for([HOST]).read_text())
    (target,) = profile["targets"]
    profile["targets"] = [dict(target, name=n) for n in NAMES]
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def test_40_targets_behind_one_sshd_none_unreachable(one: SandboxHarness,
                                                      tmp_path: Path) -> None:
    single = one.run_suite([HOST])
    expected = single.outcomes(HOST)
    assert expected and set(expected.values()) == {"pass"}, single.output[-2000:]
    assert one.ssh(HOST, "sshd -T | grep -i '^maxstartups'").strip() == "maxstartups 10:30:100"

    stats = tmp_path / "stats.json"
    run = one.run_suite([], "--jada-stats-json", str(stats),
                        profile=forty_names_one_sshd(one, tmp_path / "forty.yaml"))
    unreachable = sorted({r["target"] for r in run.records
                          if "unreachable" in (r.get("message") or "")})
    assert unreachable == [], (f"{len(unreachable)} of 40 reported unreachable: "
                               f"{unreachable}\n{run.output[-3000:]}")
    for name in NAMES:
        assert run.outcomes(name) == expected, (name, run.output[-2000:])
    doc = json.loads(stats.read_text())
    assert set(doc["targets"]) == set(NAMES)
    assert all(doc["targets"][n]["commands"] == 1 for n in NAMES), doc["targets"]
    assert isinstance(doc["ssh_retries"], dict)
    assert run.report["run"]["ssh_retries"] == doc["ssh_retries"], run.report["run"]
    print(f"40 targets behind one sshd: 0 unreachable, "
          f"{sum(doc['ssh_retries'].values())} pre-auth retries")
