"""``make bench`` fleet rows: the runner at 1,000 targets (sandbox/fleet.py simulates them).

Each run is the suite as a deployment runs it (``python -m pytest --jada-profile``), under
``ulimit -n 1024`` (a common default on self-hosted runners), watched from outside every
20 ms: the runner's open descriptors (the pytest process, and each xdist worker), how
many ssh processes it has at once, and its resident memory. Rows:

- ``alone`` and ``n2``: every target in one run, without and with ``-n 2``, both writing
  every report (a profile run without your own checks ignores ``-n``: the two rows run
  the same code, so their difference is the machine's noise; README "At 10,000 targets");
- ``shards``: the same targets as 10 shards (``--jada-shard i/10``), one after another,
  and ``jada-checks merge-reports`` of the 10 JSON reports;
- ``reports_s``: the time to render every report format from the 1,000-target JSON
  document, and ``sessionfinish_s``: the run's own report writing (JSON, Markdown, HTML,
  SARIF, GitLab code quality, metrics, JUnit XML) timed inside the run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from jada_checks.sandbox import fleet
from jada_checks.sandbox.sandbox import Sandbox

SIZE = int(os.environ.get("JADA_BENCH_FLEET_SIZE", "1000"))
SHARDS = 10
NOFILE = 1024
REPORTS = {"md": "report.md", "html": "report.html", "sarif": "report.sarif",
           "codequality": "codequality.json", "metrics": "metrics.prom"}


class Watch:
    """Samples a process tree: descriptors and RSS of its Python processes (the runner),
    and the number of ssh processes in it, at once."""

    def __init__(self, pid: int, every: float = 0.02):
        self.pid, self.every = pid, every
        self.peak_fds = self.peak_ssh = self.peak_rss_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.every)

    def sample(self) -> None:
        kids: dict[int, list[tuple[int, str]]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append((int(entry), comm))
        tree, ssh, todo = [self.pid], 0, [self.pid]
        while todo:
            for pid, comm in kids.get(todo.pop(), []):
                todo.append(pid)
                if comm == "ssh":
                    ssh += 1
                elif comm.startswith("python"):
                    tree.append(pid)
        self.peak_ssh = max(self.peak_ssh, ssh)
        rss = 0
        for pid in tree:
            try:
                self.peak_fds = max(self.peak_fds, len(os.listdir(f"/proc/{pid}/fd")))
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            rss += next((int(line.split()[1]) for line in status.splitlines()
                         if line.startswith("VmRSS:")), 0)
        self.peak_rss_kib = max(self.peak_rss_kib, rss)


def _limit_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def run_suite(profile: Path, work: Path, env: dict[str, str], *args: str,
              reports: bool = False, cwd: Path | None = None) -> dict[str, Any]:
    """One run of the suite under ``ulimit -n 1024``, from ``cwd`` (default ``work``: a
    directory outside the checkout, as a deployment runs it); its measurements and
    outcomes, the files it wrote in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    stats, report = work / "stats.json", work / "report.json"
    extra = [f"--jada-report-{fmt}={work / name}" for fmt, name in REPORTS.items()] + \
        [f"--junitxml={work / 'junit.xml'}", "-p", "jada_checks.dev.finish_timer"] \
        if reports else []
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
           "-p", "no:pytest11.testinfra", "--jada-profile", str(profile),
           "--jada-stats-json", str(stats), "--jada-report-json", str(report), *extra, *args]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd or work, env={**env, "JADA_FINISH_TIMER": str(
        work / "finish.json")}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        preexec_fn=_limit_nofile)  # noqa: PLW1509 - setrlimit only, before exec
    watch = Watch(proc.pid)
    out, _ = proc.communicate()
    wall = time.monotonic() - start
    watch.stop()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if proc.returncode not in (0, 1) or not report.exists():
        raise SystemExit(f"bench fleet: {' '.join(cmd[-6:])} exited {proc.returncode}:\n"
                         f"{out.decode(errors='replace')[-3000:]}")
    doc = json.loads(report.read_text())
    st = json.loads(stats.read_text())
    targets = len(doc["run"]["targets"])
    outcomes: dict[str, int] = {}
    for rec in doc["records"]:
        outcomes[rec["outcome"]] = outcomes.get(rec["outcome"], 0) + 1
    row = {"targets": targets, "wall_s": round(wall, 2), "runner_cpu_s": round(cpu, 2),
           "runner_cpu_per_target_ms": round(1000 * cpu / targets, 1),
           "peak_rss_mib": round(watch.peak_rss_kib / 1024, 1),
           "peak_rss_mib_per_worker": max(w["peak_rss_kib"] for w in st["workers"]) // 1024,
           "peak_open_fds": watch.peak_fds, "peak_ssh_processes": watch.peak_ssh,
           "ulimit_n": NOFILE, "outcomes": outcomes,
           "unreachable": sum(1 for r in doc["records"]
                              if "unreachable" in (r.get("message") or "")),
           "ssh_peak_processes": max(w.get("ssh_peak_processes", 0) for w in st["workers"]),
           "load_average_1m": round(os.getloadavg()[0], 1),
           "ssh_retries": sum(doc["run"].get("ssh_retries", {}).values()),
           "exit_status": proc.returncode}
    if reports:
        row["sessionfinish_s"] = json.loads((work / "finish.json").read_text())["seconds"]
    return row


def render_times(report: Path) -> dict[str, float]:
    """Seconds to render and write each report format from one JSON document."""
    from jada_checks.reporting import outputs

    doc = json.loads(report.read_text())
    times = {}
    start = time.monotonic()
    outputs.write_atomic(report.with_name("again.json"), json.dumps(doc, indent=2))
    times["json"] = round(time.monotonic() - start, 3)
    for fmt, name in REPORTS.items():
        start = time.monotonic()
        outputs.write(doc, fmt, report.with_name("again-" + name))
        times[fmt] = round(time.monotonic() - start, 3)
    return times


def shards(profile: Path, work: Path, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    rows = [run_suite(profile, work / f"shard-{i}", env, "-p", "no:xdist",
                      f"--jada-shard={i}/{SHARDS}", cwd=cwd)
            for i in range(1, SHARDS + 1)]
    merged = work / "merged.json"
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "jada_checks.cli", "merge-reports", str(merged),
                          *(str(work / f"shard-{i}" / "report.json")
                            for i in range(1, SHARDS + 1))],
                         capture_output=True, text=True, env=env)
    merge_s = time.monotonic() - start
    if res.returncode not in (0, 1):
        raise SystemExit(f"bench fleet: merge-reports exited {res.returncode}: {res.stderr}")
    keys = ("wall_s", "runner_cpu_s", "runner_cpu_per_target_ms", "peak_rss_mib",
            "peak_open_fds", "peak_ssh_processes")
    return {"shards": SHARDS, "per_shard_max": {k: max(r[k] for r in rows) for k in keys},
            "per_shard_wall_s": [r["wall_s"] for r in rows],
            "sum_wall_s": round(sum(r["wall_s"] for r in rows), 2),
            "unreachable": sum(r["unreachable"] for r in rows),
            "merge_reports_s": round(merge_s, 2),
            "merged_targets": len(json.loads(merged.read_text())["run"]["targets"])}


def sandbox_name() -> str:
    """``<$JADA_SANDBOX_NAME>-fleet`` (default ``bench-fleet``): two benches on one machine
    under their own names never replace each other's replay host."""
    own = os.environ.get("JADA_SANDBOX_NAME")
    return f"{own}-fleet"[:31] if own else "bench-fleet"


def main(out: Path, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Boot the replay host, run every fleet row, take the host down."""
    sb = Sandbox(sandbox_name())
    work = out / "fleet"
    work.mkdir(parents=True, exist_ok=True)
    try:
        host = fleet.boot(sb, work)
        profile = fleet.profile(sb, host, SIZE, work / f"fleet-{SIZE}.yaml")
        alone = run_suite(profile, work / "alone", env, "-p", "no:xdist", reports=True,
                          cwd=cwd)
        result: dict[str, Any] = {
            "size": SIZE, "alone": alone,
            "n2": run_suite(profile, work / "n2", env, "-n", "2", reports=True, cwd=cwd),
            "reports_s": render_times(work / "alone" / "report.json"),
            "sharded": shards(profile, work, env, cwd)}
    finally:
        sb.down()
    result["n2_over_alone"] = round(result["n2"]["wall_s"] / result["alone"]["wall_s"], 2)
    return result


def table(r: dict[str, Any]) -> str:
    lines = [f"fleet: {r['size']} targets on one runner (ulimit -n {NOFILE}), "
             "sandbox/fleet replay host"]
    for mode in ("alone", "n2"):
        m = r[mode]
        lines.append(f"  {mode:<6} wall {m['wall_s']:>6.1f} s  cpu/target "
                     f"{m['runner_cpu_per_target_ms']:>5.1f} ms  peak RSS {m['peak_rss_mib']:>6.1f}"
                     f" MiB (largest process {m['peak_rss_mib_per_worker']} MiB)  "
                     f"end {m.get('sessionfinish_s')} s  peak fds {m['peak_open_fds']:>4}  "
                     f"peak ssh "
                     f"{m['peak_ssh_processes']:>3}  unreachable {m['unreachable']}  "
                     f"retries {m['ssh_retries']}")
    s = r["sharded"]
    lines.append(f"  {s['shards']} shards: per shard at most {s['per_shard_max']}; "
                 f"merge-reports {s['merge_reports_s']} s ({s['merged_targets']} targets)")
    lines.append(f"  reports from the {r['size']}-target document (s): {r['reports_s']}; "
                 f"written in the run: {r['alone'].get('sessionfinish_s')} s")
    lines.append(f"  -n 2 / alone: {r['n2_over_alone']}x")
    return "\n".join(lines)
