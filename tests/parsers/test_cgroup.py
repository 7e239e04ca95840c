"""The unit's cgroup subtree as walked by the probe: members, and what could not be read."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from jada_checks.parsers.cgroup import parse_cgroup_tree

CG = "/system.slice/jada-agent.service"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_members_of_every_cgroup_of_the_subtree() -> None:
    tree = parse_cgroup_tree(f"source cgroup {CG}\nhierarchy /sys/fs/cgroup/systemd\n"
                             f"G {b64(CG)} 35 40\nG {b64(CG + '/supervisor')} 12\n"
                             f"G {b64(CG + '/a b')}\nP 35 1 2 x\n")
    assert tree.problems == []
    assert tree.members == {35: CG, 40: CG, 12: f"{CG}/supervisor"}
    assert tree.cgroups == [CG, f"{CG}/supervisor", f"{CG}/a b"]
    assert tree.describe() == f"cgroup {CG} and its 2 child cgroups (/sys/fs/cgroup/systemd)"


def test_what_could_not_be_read_is_a_problem() -> None:
    tree = parse_cgroup_tree(f"source cgroup {CG}\nG {b64(CG)} 35\n"
                             f"GX {b64(CG + '/w')} cgroup.procs could not be read\n"
                             f"G {b64(CG + '/ns')} 0 0 7\nG !!! 3\nG {b64(CG + '/x')} 3 abc\n")
    assert tree.problems == [f"{CG}/w: cgroup.procs could not be read",
                             f"{CG}/ns: 2 process(es) in a PID namespace this session cannot "
                             "see (cgroup.procs shows them as 0)",
                             "corrupt cgroup line 'G !!! 3'",
                             f"{CG}/x: cgroup.procs is not a list of pids"]
    assert tree.members == {35: CG, 7: f"{CG}/ns"}


def test_a_cgroup_source_without_any_cgroup_read_is_a_problem() -> None:
    assert parse_cgroup_tree(f"source cgroup {CG}\nP 35 1 2 x\n").problems
    fallback = parse_cgroup_tree("source descendants of 35\nP 35 1 2 x\n")
    assert fallback.root is None and fallback.problems == [] and fallback.members == {}


@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    parse_cgroup_tree(text)
