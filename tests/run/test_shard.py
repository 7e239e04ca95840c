"""Shard split: deterministic, disjoint, complete and balanced."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jada_checks.run.shard import ShardError, parse_shard, selected, shard_targets


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1", "-1/2", ""])
def test_bad_shard_values(text: str) -> None:
    with pytest.raises(ShardError):
        parse_shard(text)


def test_parse() -> None:
    assert parse_shard("2/3") == (2, 3) and parse_shard(" 1 / 1 ") == (1, 1)


def test_sorted_round_robin() -> None:
    names = ["e", "a", "d", "b", "c"]
    assert shard_targets(names, 1, 2) == ["a", "c", "e"]
    assert shard_targets(names, 2, 2) == ["b", "d"]
    assert shard_targets(names, 3, 3) == ["c"]


@given(st.sets(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), max_size=30),
       st.integers(1, 8))
def test_partition(names: set[str], count: int) -> None:
    parts = [shard_targets(names, i, count) for i in range(1, count + 1)]
    flat = [n for p in parts for n in p]
    assert sorted(flat) == sorted(names) and len(flat) == len(set(flat))
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert shard_targets(list(reversed(sorted(names))), 1, count) == parts[0]


def test_selected_keeps_profile_order() -> None:
    assert selected(["b", "a", "c"], "1/2", str) == ["a", "c"]
    assert selected(["b", "a"], None, str) == ["b", "a"]
