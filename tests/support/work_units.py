"""The self-tests' xdist work units, handed out by a scheduler of our own.

Every test that boots sandbox hosts is one unit, run by one worker: the session's hosts boot
there only. Every other test is a unit of its own.

Why not ``--dist loadgroup``: xdist 3.8's worker names a grouped test by assigning
``item._nodeid``, which pytest 9.2 no longer reads (``Node.nodeid`` comes from ``Node._id``),
so a group was split over the workers and each of them booted every sandbox host (two
65-host sandboxes on two cores: boot failures and timed-out fact scripts in CI). Here each
worker writes the unit of every test it collected into a directory the controller made,
before it reports its collection; the controller's scheduler, xdist's
``LoadScopeScheduling`` with our unit as its scope, reads them once all collections are in.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

UNITS_DIR = "jada_units_dir"  # the workerinput key naming the directory


class UnitScheduling(LoadScopeScheduling):
    """LoadScope whose scope is the unit the workers recorded for each node id."""

    def __init__(self, config: Any, log: Any, units_dir: Path) -> None:
        super().__init__(config, log)
        self.units_dir = units_dir
        self._units: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._units is None:
            self._units = read_units(self.units_dir)
        try:
            return self._units[nodeid]
        except KeyError:  # a worker that wrote no units would split the sandbox unit again
            raise RuntimeError(f"no work unit recorded for {nodeid!r} in {self.units_dir}; "
                               "every worker writes its units before its collection "
                               "(tests/support/work_units.py)") from None


def make_units_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="jada-units-"))


def remove_units_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def write_units(units_dir: Path, worker: str, units: dict[str, str]) -> None:
    """Atomically, so the controller never reads half a file."""
    tmp = units_dir / f".{worker}.json.tmp"
    tmp.write_text(json.dumps(units))
    os.replace(tmp, units_dir / f"{worker}.json")


def read_units(units_dir: Path) -> dict[str, str]:
    units: dict[str, str] = {}
    for path in sorted(units_dir.glob("*.json")):
        units.update(json.loads(path.read_text()))
    return units
