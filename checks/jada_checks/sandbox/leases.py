"""Who owns which sandbox, and which host slots (addresses, link names) it holds.

Several sandboxes may run on one machine at once (two shells, two CI jobs): each has its
own state directory, key and known_hosts, and leases its own host slots here, so no
two hosts ever share an address or a link name. A lease names its owner process (pid and
start time, so a recycled pid is not mistaken for it); a sandbox whose owner has died is
stale and the next ``up`` sweeps it. A lease without owner (``jada-sandbox up --hold``)
lasts until ``jada-sandbox down``.

The registry is one JSON file per lease under ``LEASE_DIR``. Every change to it, and
every sweep, happens under the machine-wide lock ``LOCK_FILE``; the lock is never held
while hosts boot or while a suite runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from hashlib import sha256
from pathlib import Path

LOCK_FILE = Path("/var/tmp/jada-sandbox.lock")
LEASE_DIR = Path("/var/tmp/jada-sandbox.leases")
MAX_SLOT = 16383  # 10.231.0.0/16 in /30 blocks (see machines.Machine.address)


@dataclass(frozen=True)
class Owner:
    """A process, identified beyond its pid by its start time (field 22 of stat)."""

    pid: int
    start: int
    command: str

    @classmethod
    def of(cls, pid: int) -> Owner:
        return cls(pid, _start_time(pid) or 0, _command(pid))

    def alive(self) -> bool:
        return self.start > 0 and _start_time(self.pid) == self.start


@dataclass(frozen=True)
class Lease:
    state_dir: str
    slots: tuple[int, ...]
    owner: Owner | None  # None: held until an explicit down
    since: float

    def alive(self) -> bool:
        return self.owner is None or self.owner.alive()

    def whose(self) -> str:
        """Who holds it, in words for an error message."""
        if self.owner is None:
            return "held until 'jada-sandbox down' (up --hold)"
        age = int(time.time() - self.since)
        return f"owned by pid {self.owner.pid} ({self.owner.command}), up for {age} s"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Lease:
        owner = data.get("owner")
        return cls(data["state_dir"], tuple(data["slots"]),
                   Owner(**owner) if owner else None, data["since"])


class LeaseError(Exception):
    """The sandbox asked for is in use, or no slots are left; the message says whose."""


@contextmanager
def registry_lock() -> Iterator[None]:
    """The machine-wide lock: held only while leases are read, changed or swept."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a") as fd:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _file(state_dir: str | Path) -> Path:
    key = sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:16]
    return LEASE_DIR / f"{key}.json"


def leases() -> list[Lease]:
    """Every registered lease (call under ``registry_lock``)."""
    out = []
    for f in sorted(LEASE_DIR.glob("*.json")) if LEASE_DIR.is_dir() else []:
        try:
            out.append(Lease.from_json(json.loads(f.read_text())))
        except (OSError, ValueError, KeyError, TypeError):
            f.unlink(missing_ok=True)  # a torn or foreign file: it leases nothing
    return out


def lease_of(state_dir: str | Path) -> Lease | None:
    want = str(Path(state_dir).resolve())
    return next((le for le in leases() if le.state_dir == want), None)


def take(state_dir: str | Path, count: int, owner: Owner | None) -> Lease:
    """Lease ``count`` free slots for a new sandbox (call under ``registry_lock``)."""
    used = {s for le in leases() for s in le.slots}
    free = [s for s in range(1, MAX_SLOT + 1) if s not in used][:count]
    if len(free) < count:
        raise LeaseError(f"no free host slots: {len(used)} of {MAX_SLOT} are leased")
    lease = Lease(str(Path(state_dir).resolve()), tuple(free), owner, time.time())
    _write(lease)
    return lease


def extend(lease: Lease, count: int) -> Lease:
    """``count`` more slots for a sandbox that boots more hosts (under ``registry_lock``)."""
    used = {s for le in leases() for s in le.slots}
    free = [s for s in range(1, MAX_SLOT + 1) if s not in used][:count]
    if len(free) < count:
        raise LeaseError(f"no free host slots: {len(used)} of {MAX_SLOT} are leased")
    grown = Lease(lease.state_dir, lease.slots + tuple(free), lease.owner, lease.since)
    _write(grown)
    return grown


def shrink(lease: Lease, slots: tuple[int, ...]) -> None:
    """Give back the slots of hosts that failed to boot (under ``registry_lock``)."""
    _write(Lease(lease.state_dir, tuple(s for s in lease.slots if s not in slots),
                 lease.owner, lease.since))


def release(state_dir: str | Path) -> None:
    _file(state_dir).unlink(missing_ok=True)


def _write(lease: Lease) -> None:
    LEASE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = _file(lease.state_dir).with_suffix(".tmp")
    tmp.write_text(json.dumps(lease.to_json(), indent=2))
    tmp.replace(_file(lease.state_dir))


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None  # a zombie owns nothing
    return int(fields[19])


def _command(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(a.decode(errors="replace") for a in argv if a)[:120] or "?"


def current_owner(pid: int | None = None) -> Owner:
    return Owner.of(pid or os.getpid())
