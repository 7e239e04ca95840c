"""The suite never changes a target: a full run leaves the host's overlay upper layer
(everything the host ever wrote) as it was, apart from what any SSH login writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("scratch-1")

# What any SSH login writes, whoever logs in: the journal, login records. Plus one
# artefact of the sandbox: its root shares this machine's /root, whose .bashrc runs
# `pyenv init` (a shim rehash) in every SSH session, before the suite's command starts.
LOGIN_WRITES = ("var/log/journal/", "var/log/wtmp", "var/log/btmp", "var/log/lastlog",
                "var/log/auth.log", "var/lib/systemd/linger", "var/lib/private/systemd/",
                "root/.pyenv/")


def snapshot(upper: Path) -> dict[str, tuple[int, int, int]]:
    state = {}
    for root, dirs, files in os.walk(upper):
        for name in dirs + files:
            path = Path(root, name)
            rel = str(path.relative_to(upper))
            st = path.lstat()
            state[rel] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return state


def test_full_run_changes_nothing_on_the_target(sandbox: SandboxHarness) -> None:
    upper = sandbox.sandbox.upper("scratch-1")
    sandbox.run_suite(["scratch-1"])  # a first login creates the login records
    before = snapshot(upper)
    run = sandbox.run_suite(["scratch-1"])
    after = snapshot(upper)
    assert run.record("JADA-UNIT-01", "scratch-1")["outcome"] in ("pass", "fail")
    changed = sorted(p for p in set(before) | set(after)
                     if before.get(p) != after.get(p) and not p.startswith(LOGIN_WRITES))
    # a directory's mtime changes when a login record inside it is written
    changed = [p for p in changed if not any(w.startswith(p + "/") for w in LOGIN_WRITES)]
    assert changed == [], changed
