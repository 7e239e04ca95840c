"""What the suite costs the host it checks: the fact script's CPU and wall time, measured
on the host, and the CPU of one bare SSH login (``make bench``, row group ``host_script``).

``host_script_cpu_s`` / ``host_script_wall_s``: the script is uploaded once and run N times
on the host as ``bash --norc FILE`` (stdin /dev/null, output discarded) under bash's
``time`` keyword, whose user and system times are the rusage of the script's whole
process tree (every process the script started and waited for: bash(1), "time"; the
kernel adds a reaped child's times and its own reaped children's to its parent, getrusage(2)
RUSAGE_CHILDREN). Not counted: work done for the script by processes it did not start
(systemd answering ``systemctl``, logind, journald). Medians of the N runs.

``host_login_cpu_s``: the CPU of one bare login on the host's side (the suite's own:
:class:`~jada_checks.facts.remote.Connection` running the script ``true``), as the
listening sshd's own accounting: its utime + stime + cutime + cstime (proc(5),
/proc/PID/stat fields 14-17) before and after the login, once it has reaped the
connection's processes. Each connection is a child of the listener (the per-connection
sshd, its privilege-separated child, PAM, and the user's shell with whatever its dotfiles
run, all reaped up the chain), so the difference is exactly sshd plus the shell. Clock
ticks are 10 ms (USER_HZ 100), so it is the mean over N logins.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from jada_checks.facts.remote import Connection
from jada_checks.profile import Target
from jada_checks.sandbox.sandbox import Sandbox

SCRIPT_PATH = "/tmp/jada-bench-fact-script.sh"
TICK = os.sysconf("SC_CLK_TCK")


def script_on_host(sb: Sandbox, host: str, script: str, runs: int) -> dict[str, Any]:
    """Upload ``script`` once, then time ``runs`` runs of it on ``host`` (one login)."""
    address = sb.address(host)
    up = sb.ssh_raw(address, f"cat > {SCRIPT_PATH}", stdin=script)
    if up.returncode != 0:
        raise SystemExit(f"bench: uploading the fact script to {host} failed: {up.stderr}")
    # %3R %3U %3S: wall, user and system seconds of the timed pipeline (bash(1), TIMEFORMAT)
    loop = (f"TIMEFORMAT='%3R %3U %3S'; for i in $(seq {runs}); do "
            f"{{ time bash --norc {SCRIPT_PATH} </dev/null >/dev/null 2>&1; }} 2>&1; done; "
            f"rm -f {SCRIPT_PATH}")
    res = sb.ssh_raw(address, loop, timeout=60 + 30 * runs)
    rows = [line.split() for line in res.stdout.splitlines() if line.strip()]
    if res.returncode != 0 or len(rows) != runs or any(len(r) != 3 for r in rows):
        raise SystemExit(f"bench: timing the fact script on {host} failed "
                         f"(exit {res.returncode}): {res.stdout[-500:]}{res.stderr[-500:]}")
    walls = [float(r[0]) for r in rows]
    cpus = [float(r[1]) + float(r[2]) for r in rows]
    return {"host_script_cpu_s": round(statistics.median(cpus), 3),
            "host_script_wall_s": round(statistics.median(walls), 3),
            "host_script_runs": runs, "host_script_script_bytes": len(script.encode()),
            "host_script_cpu_runs": [round(c, 3) for c in cpus],
            "host_script_wall_runs": walls}


def _stat_cpu(pid: int) -> float:
    """utime + stime + cutime + cstime of a live process, in seconds (proc(5))."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICK  # fields 14-17 of the whole line


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def listener_pid(sb: Sandbox, host: str) -> int:
    """The host's listening sshd, as a pid of this machine (its NSpid's first field)."""
    inner = int(sb.exec(host, "systemctl show -p MainPID --value ssh.service").strip())
    init = sb.machines()[host].init_pid
    ns = os.readlink(f"/proc/{init}/ns/pid")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns/pid") != ns:
                continue
            nspid = next(ln for ln in (entry / "status").read_text().splitlines()
                         if ln.startswith("NSpid:")).split()[1:]
        except (OSError, StopIteration):
            continue
        if int(nspid[-1]) == inner:
            return int(nspid[0])
    raise SystemExit(f"bench: the listening sshd of {host} (pid {inner} there) not found")


def login_on_host(sb: Sandbox, host: str, target: Target, logins: int) -> dict[str, Any]:
    """Mean host CPU of one bare login (the suite's login running ``true``) as the host's
    listening sshd counts it."""
    pid = listener_pid(sb, host)

    def login() -> None:
        conn = Connection(target)
        try:
            res = conn.run("true")
        finally:
            conn.close()
        if res.rc != 0:
            raise SystemExit(f"bench: a bare login to {host} exited {res.rc}: "
                             f"{res.stderr.decode(errors='replace')[-300:]}")

    login()  # warm: the first login after boot does more
    total, walls = 0.0, []
    for _ in range(logins):
        _settle(pid)
        before, start = _stat_cpu(pid), time.monotonic()
        login()
        walls.append(time.monotonic() - start)
        _settle(pid)
        total += _stat_cpu(pid) - before
    return {"host_login_cpu_s": round(total / logins, 4), "host_login_logins": logins,
            "host_login_wall_s": round(statistics.median(walls), 3)}


def _settle(pid: int, limit: float = 10.0) -> None:
    """Wait until the listener has reaped every connection (no child left)."""
    deadline = time.monotonic() + limit
    while _children(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _children(pid):
        raise SystemExit(f"bench: sshd {pid} still has connections after {limit:.0f} s")
