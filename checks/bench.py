"""``make bench``: wall time, round trips and memory of the suite against K sandbox hosts.

For K = 1, 4, 8 copies of ``compliant`` it runs the whole built-in suite alone and with
``-n 2`` (median of several runs) and, in the same run, the naive baseline
(``bench/naive_checks.py``: one Testinfra command per fact). Commands and connections of
the suite come from its own instrumentation (``--jada-stats-json``); the SSH logins each host
actually accepted are read from the host's own sshd journal as a cross-check.
Results: printed, and written to ``build/bench/results.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jada_checks.sandbox.sandbox import REPO, SANDBOX_AWS_ENV, Sandbox

OUT = REPO / "build" / "bench"
SIZES = tuple(int(k) for k in os.environ.get("JADA_BENCH_SIZES", "1,4,8").split(","))
REPEAT = int(os.environ.get("JADA_BENCH_REPEAT", "3"))
ENV = {**os.environ, **SANDBOX_AWS_ENV}
ENV.pop("JADA_PROFILE", None)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.monotonic()
    res = subprocess.run(cmd, cwd=REPO, env=env or ENV, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(cmd[:6])} exited {res.returncode}:\n"
                         f"{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return time.monotonic() - start


def accepted_logins(sb: Sandbox, hosts: list[str]) -> dict[str, int]:
    """sshd's own count of accepted logins per host (minus the one this query costs)."""
    out = {}
    for h in hosts:
        text = sb.ssh(h, "journalctl -q -u ssh.service -o cat | grep -c '^Accepted' || true")
        out[h] = int(text.strip() or 0)
    return out


def suite(sb: Sandbox, profile: Path, hosts: list[str], workers: int) -> dict[str, Any]:
    stats_file = OUT / "stats.json"
    base = ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--jada-profile",
           str(profile), "--jada-stats-json", str(stats_file), *base]
    times = []
    for _ in range(REPEAT):
        before = accepted_logins(sb, hosts)
        times.append(timed(cmd))
        after = accepted_logins(sb, hosts)
    stats = json.loads(stats_file.read_text())
    return {"wall_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times],
            "commands_per_host": max(t["commands"] for t in stats["targets"].values()),
            "connections_per_host": max(t["connections"] for t in stats["targets"].values()),
            "sshd_logins_per_host": max(after[h] - before[h] - 1 for h in hosts),
            "peak_rss_mib_per_worker": max(w["peak_rss_kib"] for w in stats["workers"]) // 1024}


def naive(sb: Sandbox, hosts: list[str], repeat: int) -> dict[str, Any]:
    cfg = OUT / "naive_ssh_config"
    cfg.write_text("".join(
        f"Host {h}\n  HostName {sb.address(h)}\n  User root\n  IdentityFile {sb.key}\n"
        f"  UserKnownHostsFile {sb.known_hosts}\n  StrictHostKeyChecking yes\n"
        f"  BatchMode yes\n" for h in hosts))
    counts = OUT / "naive_counts.json"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
           "bench/naive_checks.py", f"--hosts={','.join('ssh://' + h for h in hosts)}",
           f"--ssh-config={cfg}"]
    times = []
    for _ in range(repeat):
        before = accepted_logins(sb, hosts)
        times.append(timed(cmd, {**ENV, "JADA_NAIVE_STATS": str(counts)}))
        after = accepted_logins(sb, hosts)
    return {"wall_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times],
            "commands_per_host": json.loads(counts.read_text())["commands"] // len(hosts),
            "sshd_logins_per_host": max(after[h] - before[h] - 1 for h in hosts)}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"repeat": REPEAT, "sizes": {}}
    sb = Sandbox("bench")
    for k in SIZES:
        hosts = [f"h{i}" for i in range(1, k + 1)]
        try:
            profile = sb.up({h: str(REPO / "sandbox/hosts/compliant") for h in hosts},
                            OUT / f"profile-{k}.yaml")
            row = {"alone": suite(sb, profile, hosts, 0),
                   "n2": suite(sb, profile, hosts, 2),
                   "naive": naive(sb, hosts, REPEAT if k == 1 else 1)}
            if k == 1:
                results["collect_only_s"] = round(statistics.median(timed(
                    [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                     "--collect-only", "--jada-profile", str(profile)]) for _ in range(REPEAT)), 3)
        finally:
            sb.down()
        row["speedup_vs_naive"] = round(row["naive"]["wall_s"] / row["alone"]["wall_s"], 1)
        results["sizes"][str(k)] = row
    one = results["sizes"].get("1", {}).get("alone", {}).get("wall_s")
    eight = results["sizes"].get("8", {}).get("n2", {}).get("wall_s")
    if one and eight:
        results["8_hosts_n2_over_1_host"] = round(eight / one, 2)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten: {OUT / 'results.json'}")
    return 0


def table(r: dict[str, Any]) -> str:
    head = (f"{'hosts':>5} {'mode':<6} {'wall s':>7} {'cmds/host':>9} {'conns/host':>10} "
            f"{'sshd logins/host':>16} {'peak MiB/worker':>15}")
    lines = [head, "-" * len(head)]
    for k, row in r["sizes"].items():
        for mode in ("alone", "n2", "naive"):
            m = row[mode]
            lines.append(f"{k:>5} {mode:<6} {m['wall_s']:>7.2f} {m['commands_per_host']:>9} "
                         f"{m.get('connections_per_host', '-'):>10} "
                         f"{m['sshd_logins_per_host']:>16} "
                         f"{m.get('peak_rss_mib_per_worker', '-'):>15}")
        lines.append(f"{'':>5} speedup vs naive: {row['speedup_vs_naive']}x")
    if "collect_only_s" in r:
        lines.append(f"pytest --collect-only: {r['collect_only_s']:.2f} s")
    if "8_hosts_n2_over_1_host" in r:
        lines.append(f"8 hosts with -n 2 / 1 host alone: {r['8_hosts_n2_over_1_host']}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
