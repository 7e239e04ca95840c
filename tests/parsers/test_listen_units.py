"""The listeners' units (HTTP-03's served_by): cgroup paths to systemd units, and the
``<pid> <cgroup path>`` lines the fact script prints."""

from __future__ import annotations

import pytest

from jada_checks.parsers.listen_units import parse_listen_units, unit_of


@pytest.mark.parametrize(("path", "unit"), [
    ("/system.slice/nginx.service", "nginx.service"),
    # a delegated child cgroup still belongs to its unit (systemd.resource-control(5))
    ("/system.slice/jada-agent.service/worker", "jada-agent.service"),
    ("/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service"),
    ("/user.slice/user-1000.slice/session-3.scope", "session-3.scope"),
    ("/init.scope", "init.scope"),  # pid 1: what holds a socket unit's listener
    ("/system.slice", None),  # a slice holds units, it is not one
    ("/", None),
    ("", None),
])
def test_unit_of_a_cgroup(path: str, unit: str | None) -> None:
    assert unit_of(path) == unit


def test_lines_map_pids_and_keep_what_cannot_be_read() -> None:
    text = ("812 /system.slice/nginx.service\n"
            "913 /system.slice/jada-agent.service\n"
            "914 \n"  # the process ended between ss and the read: unknown, not guessed
            "x12 /system.slice/a.service\n"
            "915 system.slice/relative.service\n")
    units, bad = parse_listen_units(text)
    assert units == {812: "nginx.service", 913: "jada-agent.service", 914: None}
    assert bad == ["x12 /system.slice/a.service", "915 system.slice/relative.service"]
