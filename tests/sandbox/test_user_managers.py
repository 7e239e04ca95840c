"""A sandbox host keeps each user's manager (user@UID.service) once a login started it.

Why (``machines.keep_user_managers``): on this machine's cgroup v1, stopping a user manager
10 s after the user's last session could hang until user@.service's 120 s stop timeout,
and every new login of that user waited behind it, so a host looked unreachable to a
full self-test run. logind must have read the sandbox's drop-in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jada_checks.sandbox.machines import LOGIND_DROPIN, keep_user_managers
from tests.support.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("compliant")

INFINITY = str(2**64 - 1)  # USEC_INFINITY, as sd-bus prints a "t"


def test_logind_on_a_host_never_stops_a_user_manager(sandbox: SandboxHarness) -> None:
    out = sandbox.ssh("compliant", "busctl get-property org.freedesktop.login1 "
                      "/org/freedesktop/login1 org.freedesktop.login1.Manager "
                      "UserStopDelayUSec; systemctl is-active user@0.service")
    assert out.split() == ["t", INFINITY, "active"], out


def test_the_dropin_is_written_in_the_host_tree(tmp_path: Path) -> None:
    keep_user_managers(tmp_path)
    assert (tmp_path / LOGIND_DROPIN).read_text() == "[Login]\nUserStopDelaySec=infinity\n"
