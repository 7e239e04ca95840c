"""Splitting a profile's targets across CI shards (``--jada-shard I/N``).

Targets are sorted by name and dealt round-robin: shard I (1-based) gets the names at
positions I-1, I-1+N, ... Sorting makes the split independent of profile order and of the
machine; dealing keeps shards within one target of each other in size. Adding a target
may move others to another shard, which is harmless because shards are merged afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A malformed shard value; the message is for the user (the caller names the option)."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; I is 1-based like CI_NODE_INDEX and matrix indices."""
    m = SHARD.match(text)
    if not m:
        raise ShardError(f"{text!r}: expected I/N, e.g. 1/3")
    index, count = int(m[1]), int(m[2])
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"{text!r}: need 1 <= I <= N")
    return index, count


def shard_targets(names: Iterable[str], index: int, count: int) -> list[str]:
    """The target names shard ``index`` of ``count`` checks, in sorted order."""
    return [n for i, n in enumerate(sorted(names)) if i % count == index - 1]


def selected(targets: Iterable[T], shard: str | None, name: Callable[[T], str]) -> list[T]:
    """The targets a run with ``--jada-shard shard`` (or None: all) checks, in profile order."""
    targets = list(targets)
    if not shard:
        return targets
    keep = set(shard_targets((name(t) for t in targets), *parse_shard(shard)))
    return [t for t in targets if name(t) in keep]
