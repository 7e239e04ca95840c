"""``make bench``: wall time, runner CPU, round trips and memory of the suite against K hosts.

For K = 1, 8, 24 copies of ``compliant`` it runs the whole built-in suite alone and with
``-n 2`` (median of several runs; a profile run checks every target in one process, so
``-n 2`` must never be slower), and measures the runner's CPU (user + system of the pytest
process and every ssh it started, from ``RUSAGE_CHILDREN``) apart from wall time. At
K = 1 it also measures what the JADA-HTTP probes add (the same host with and without
``expect.http``, 5 runs each, interleaved), the physical limit (one SSH login plus the
whole fact script, from this process, nothing else) and three Testinfra baselines of the
same facts written the plain way (``bench/naive_checks.py``, one remote command per fact):
OpenSSH with ControlPersist (Testinfra's default, the ``naive`` row), OpenSSH without it,
and paramiko.
The ControlPersist baseline also runs at K = 8 (once); at 24 hosts it would take minutes.
With 8 hosts it also measures the user's own Testinfra tests (``bench/testinfra_40.py``, 40
calls per host): the suite running them beside the controls alone and with ``-n 2`` (split
by target across two workers, one login per target: :mod:`jada_checks.run.workers`), and
plain Testinfra running the same module with its own ``--hosts`` (:func:`own_rows`).
``host_script`` measures what a run costs the host it checks, on one ``compliant`` host of its
own: the fact script's CPU and wall time on the host and the CPU of one bare login
(:mod:`jada_checks.dev.host_cost`).
``JADA_BENCH_ONLY`` picks row groups: ``suite`` (the sizes above), ``own`` (these), ``fleet``,
``host_script``; every group by default; ``JADA_BENCH_ONLY=own`` boots only the 8 hosts they
need.
Commands and connections of the suite come from its own instrumentation
(``--jada-stats-json``); the SSH logins each host accepted are read from the host's own sshd
journal as a cross-check. Results: printed, and written to ``build/bench/results.json``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jada_checks.sandbox.sandbox import REPO, SANDBOX_AWS_ENV, Sandbox

OUT = REPO / "build" / "bench"
SIZES = tuple(int(k) for k in os.environ.get("JADA_BENCH_SIZES", "1,8,24").split(","))
NAIVE_MAX_HOSTS = int(os.environ.get("JADA_BENCH_NAIVE_MAX_HOSTS", "8"))
# Testinfra's host spec per baseline (the ssh backend's ControlPersist defaults to 60 s).
BASELINES = {"naive": "ssh://{h}", "naive_plain_ssh": "ssh://{h}?controlpersist=0",
             "naive_paramiko": "paramiko://{h}"}
REPEAT = int(os.environ.get("JADA_BENCH_REPEAT", "3"))
OWN_HOSTS = 8
OWN_MODULE = REPO / "bench" / "testinfra_40.py"
OWN_MODES = ("own_alone", "own_n2", "own_testinfra")
# Small: 5 calls on 2 hosts, where -n 2 must cost nothing (the suite starts no worker).
OWN_SMALL_MODULE = REPO / "bench" / "testinfra_5.py"
OWN_SMALL_HOSTS = 2
OWN_SMALL_MODES = {"own_small_alone": (0, ()), "own_small_n2": (2, ()),
                   "own_small_n2_split": (2, ("-o", "jada_calls_per_worker=0"))}
# JADA_BENCH_ONLY=own,fleet: only those row groups ("suite": the sizes, "own": your own
# checks at 8 hosts, "fleet": the 1,000-target rows, dev/fleet_bench.py, "host_script": the
# host's CPU for the fact script and for a login, dev/host_cost.py); empty: every row.
ONLY = {w for w in os.environ.get("JADA_BENCH_ONLY", "").split(",") if w}
ROWS = ONLY or {"suite", "own", "fleet", "host_script"}
# Runs of the fact script on the host, and bare logins (their CPU is a mean: 10 ms ticks).
HOST_SCRIPT_RUNS = int(os.environ.get("JADA_BENCH_HOST_SCRIPT_RUNS", "11"))
HOST_LOGINS = int(os.environ.get("JADA_BENCH_HOST_LOGINS", "20"))
ENV = {**os.environ, **SANDBOX_AWS_ENV}
ENV.pop("JADA_PROFILE", None)


def children_cpu() -> float:
    """User + system CPU of every reaped child process tree of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed_cpu(cmd: list[str], env: dict[str, str] | None = None,
              cwd: Path = REPO) -> tuple[float, float]:
    """Wall seconds and the CPU seconds of the process tree (the runner: pytest and the ssh
    clients it waits for; a daemonised ControlPersist master is not counted)."""
    cpu0, start = children_cpu(), time.monotonic()
    res = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True)
    wall, cpu = time.monotonic() - start, children_cpu() - cpu0
    if res.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(cmd[:6])} exited {res.returncode}:\n"
                         f"{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return wall, cpu


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    return timed_cpu(cmd, env)[0]


def physical_limit(profile: Path, repeat: int) -> float:
    """One SSH login plus the whole fact script, nothing else: the floor for one host."""
    from jada_checks.controls import catalogue
    from jada_checks.facts.probes import build_script
    from jada_checks.facts.remote import Connection
    from jada_checks.profile import load_profile

    catalogue()  # the controls register the probes the script is built from
    target = load_profile(profile).targets[0]
    assert target.ssh is not None
    script = build_script(target.expect["unit"], sudo=bool(target.ssh.get("sudo")))
    times = []
    for _ in range(repeat):
        conn = Connection(target)
        start = time.monotonic()
        res = conn.run(script)
        times.append(time.monotonic() - start)
        conn.close()
        if res.rc != 0:
            raise SystemExit(f"bench: the fact script exited {res.rc}")
    return round(statistics.median(times), 3)


def accepted_logins(sb: Sandbox, hosts: list[str]) -> dict[str, int]:
    """sshd's own count of accepted logins per host (minus the one this query costs)."""
    out = {}
    for h in hosts:
        text = sb.ssh(h, "journalctl -q -u ssh.service -o cat | grep -c '^Accepted' || true")
        out[h] = int(text.strip() or 0)
    return out


def deployment_dir() -> Path:
    """Where the suite runs: an empty directory outside this checkout, as a deployment's
    ``pytest --jada-profile`` does. From the checkout pytest would also import the
    self-tests' ``tests/conftest.py`` (hypothesis and the sandbox harness: about 0.6 s
    of CPU on these 2 cores), which no deployment has."""
    path = Path(tempfile.gettempdir()) / f"jada-bench-{os.getpid()}"
    path.mkdir(exist_ok=True)
    return path


def suite(sb: Sandbox, profile: Path, hosts: list[str], workers: int,
          repeat: int = REPEAT) -> dict[str, Any]:
    stats_file = OUT / "stats.json"
    base = ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    # This venv has pytest-testinfra for the baselines; a deployment's has not (the suite
    # does not depend on it), so its plugin's import is not the suite's start-up.
    base += ["-p", "no:pytest11.testinfra"]
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--jada-profile",
           str(profile), "--jada-stats-json", str(stats_file), *base]
    times, cpus, lags = [], [], []
    for _ in range(repeat):
        before = accepted_logins(sb, hosts)
        wall, cpu = timed_cpu(cmd, cwd=deployment_dir())
        times.append(wall)
        cpus.append(cpu)
        after = accepted_logins(sb, hosts)
        lag = http_lag(json.loads(stats_file.read_text()))
        if lag is not None:
            lags.append(lag)
    stats = json.loads(stats_file.read_text())
    extra = {"http_after_ssh_facts_s": round(statistics.median(lags), 3)} if lags else {}
    return {**extra, "wall_s": round(statistics.median(times), 3),
            "runs": [round(t, 3) for t in times],
            "runner_cpu_s": round(statistics.median(cpus), 3),
            "commands_per_host": max(t["commands"] for t in stats["targets"].values()),
            "connections_per_host": max(t["connections"] for t in stats["targets"].values()),
            "sshd_logins_per_host": max(after[h] - before[h] - 1 for h in hosts),
            "peak_rss_mib_per_worker": max(w["peak_rss_kib"] for w in stats["workers"]) // 1024}


def http_lag(stats: dict[str, Any]) -> float | None:
    """How much later than its SSH facts a target's HTTP probes were done (0 when before),
    the worst target: what the probes add to the run's critical path. None without HTTP."""
    lags = [max(0.0, done["http"] - done["host"]) for w in stats["workers"]
            for done in w.get("facts_done_s", {}).values() if "http" in done and "host" in done]
    return max(lags) if lags else None


def naive(sb: Sandbox, hosts: list[str], repeat: int, spec: str = BASELINES["naive"]
          ) -> dict[str, Any]:
    cfg = OUT / "naive_ssh_config"
    cfg.write_text("".join(
        f"Host {h}\n  HostName {sb.address(h)}\n  User root\n  IdentityFile {sb.key}\n"
        f"  UserKnownHostsFile {sb.known_hosts}\n  StrictHostKeyChecking yes\n"
        f"  BatchMode yes\n" for h in hosts))
    counts = OUT / "naive_counts.json"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
           "bench/naive_checks.py", f"--hosts={','.join(spec.format(h=h) for h in hosts)}",
           f"--ssh-config={cfg}"]
    times, cpus = [], []
    for _ in range(repeat):
        before = accepted_logins(sb, hosts)
        wall, cpu = timed_cpu(cmd, {**ENV, "JADA_NAIVE_STATS": str(counts)})
        times.append(wall)
        cpus.append(cpu)
        after = accepted_logins(sb, hosts)
    return {"wall_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times],
            "runner_cpu_s": round(statistics.median(cpus), 3),
            "commands_per_host": json.loads(counts.read_text())["commands"] // len(hosts),
            "sshd_logins_per_host": max(after[h] - before[h] - 1 for h in hosts)}


TESTINFRA_CALLS = int(os.environ.get("JADA_BENCH_TESTINFRA_CALLS", "40"))


def testinfra_call_cost(sb: Sandbox, calls: int = TESTINFRA_CALLS) -> dict[str, Any]:
    """What one Testinfra call costs over the target's shared login (FactStore.share_logins,
    ``testinfra_host``) against a fresh login per call (Testinfra's ssh backend without
    ControlPersist), on a sandbox host as its audit user: that user's shell starts as a
    stock Debian one.
    Wall and runner CPU per call (median; CPU: the ssh clients, from RUSAGE_CHILDREN, and
    this process's own), and the logins sshd accepted during the shared calls."""
    import yaml

    from jada_checks.context import FactStore
    from jada_checks.profile import load_profile

    name = "tcost"
    if name not in sb.machines():
        sb.add({name: str(REPO / "sandbox/hosts/own-sudo")})
    path = sb.write_profile([name], OUT / "profile-testinfra-call.yaml")
    data = yaml.safe_load(path.read_text())
    data["targets"][0]["ssh"].update(user="jada-audit", post_quantum_kex=False)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    prof = load_profile(path)
    target = prof.targets[0]

    def per_call(run: Any) -> tuple[float, float]:
        run()  # warm: the login (shared) or Testinfra's own first-use work
        walls, cpus = [], []
        for _ in range(calls):
            cpu0, start = children_cpu() + self_cpu(), time.monotonic()
            run()
            walls.append(time.monotonic() - start)
            cpus.append(children_cpu() + self_cpu() - cpu0)
        return statistics.median(walls) * 1000, statistics.median(cpus) * 1000

    store = FactStore(prof)
    store.share_logins = True
    before = accepted_logins(sb, [name])[name]
    try:
        host = store.testinfra_host(target)
        shared_ms, shared_cpu = per_call(lambda: host.run("true"))
        counters = store.connections[name].counters
        conns = counters.connections
    finally:
        store.close()
    logins = accepted_logins(sb, [name])[name] - before - 1

    import testinfra

    cfg = OUT / "testinfra_call_ssh_config"
    cfg.write_text(f"Host {name}\n  HostName {sb.address(name)}\n  User jada-audit\n"
                   f"  IdentityFile {sb.key}\n  UserKnownHostsFile {sb.known_hosts}\n"
                   f"  StrictHostKeyChecking yes\n  BatchMode yes\n"
                   f"  KexAlgorithms ^curve25519-sha256,curve25519-sha256@libssh.org\n")
    fresh = testinfra.get_host(f"ssh://{name}?controlpersist=0", ssh_config=str(cfg))
    fresh_ms, fresh_cpu = per_call(lambda: fresh.run("true"))
    return {"calls": calls, "shared_ms": round(shared_ms, 1),
            "shared_runner_cpu_ms": round(shared_cpu, 1),
            "fresh_login_ms": round(fresh_ms, 1),
            "fresh_login_runner_cpu_ms": round(fresh_cpu, 1),
            "shared_connections": conns, "shared_sshd_logins": logins}


def self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def fleet_profile(path: Path) -> Path:
    """The fleet setting the bench measures: ``ssh.post_quantum_kex: false`` (classical
    key exchange first: most of the runner's CPU per host; README, Speed)."""
    import yaml

    data = yaml.safe_load(path.read_text())
    for target in data["targets"]:
        target["ssh"]["post_quantum_kex"] = False
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def without_http(path: Path) -> Path:
    """The same profile without service ports (no JADA-HTTP control, nothing probed), to
    measure what the HTTP checks add to a run."""
    import yaml

    data = yaml.safe_load(path.read_text())
    for expect in [data.get("expect", {}), *(t.get("expect", {}) for t in data["targets"])]:
        expect.pop("http", None)
    out = path.with_name(path.stem + "-without-http.yaml")
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def paired(sb: Sandbox, a: Path, b: Path, hosts: list[str], repeat: int
           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``suite`` of two profiles, their runs interleaved (a, b, a, b, ...) so a change in
    the machine's load hits both alike; medians as in ``suite``."""
    runs: dict[Path, list[dict[str, Any]]] = {a: [], b: []}
    for _ in range(repeat):
        for profile in (a, b):
            runs[profile].append(suite(sb, profile, hosts, 0, 1))
    out = []
    for profile in (a, b):
        rows = runs[profile]
        walls = [r["wall_s"] for r in rows]
        row = dict(rows[-1], wall_s=round(statistics.median(walls), 3), runs=walls,
                   runner_cpu_s=round(statistics.median(r["runner_cpu_s"] for r in rows), 3))
        if all("http_after_ssh_facts_s" in r for r in rows):
            row["http_after_ssh_facts_s"] = round(statistics.median(
                r["http_after_ssh_facts_s"] for r in rows), 3)
        out.append(row)
    return out[0], out[1]


def own_suite(sb: Sandbox, profile: Path, hosts: list[str], workers: int,
              repeat: int = REPEAT, module_file: Path = OWN_MODULE,
              extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The suite with the user's module beside the controls (``pytest --jada-profile P
    testinfra_40.py``), from a deployment directory, alone or with ``-n``; fields as
    :func:`suite`, plus ``not_passed`` (records that did not pass: 0 on ``compliant``) and
    ``user_tests`` (records of the module's tests)."""
    where = deployment_dir()
    module = where / f"test_own_{module_file.stem}.py"
    shutil.copyfile(module_file, module)
    stats_file, report = OUT / "own-stats.json", OUT / "own-report.json"
    base = ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--jada-profile",
           str(profile), "--jada-stats-json", str(stats_file), "--jada-report-json",
           str(report), *base, *extra, module.name]
    times, cpus, logins = [], [], []
    for _ in range(repeat):
        before = accepted_logins(sb, hosts)
        wall, cpu = timed_cpu(cmd, cwd=where)
        after = accepted_logins(sb, hosts)
        times.append(wall)
        cpus.append(cpu)
        logins.append(max(after[h] - before[h] - 1 for h in hosts))
    stats = json.loads(stats_file.read_text())
    records = json.loads(report.read_text())["records"]
    return {"wall_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times],
            "runner_cpu_s": round(statistics.median(cpus), 3),
            "connections_per_host": max(t["connections"] for t in stats["targets"].values()),
            "sshd_logins_per_host": max(logins),
            "xdist_workers": sum(1 for w in stats["workers"] if w["worker"] != "main"),
            "peak_rss_mib_per_worker": max(w["peak_rss_kib"] for w in stats["workers"]) // 1024,
            "user_tests": sum(1 for r in records if not r["control"].startswith("JADA-")),
            "not_passed": sum(1 for r in records if r["outcome"] != "pass")}


def own_testinfra(sb: Sandbox, hosts: list[str], repeat: int = REPEAT) -> dict[str, Any]:
    """Plain Testinfra running the same module with its own ``--hosts`` (ssh backend), as
    a deployment would run its checks without the suite.

    Its ssh_config reaches the sandbox hosts and sets a ``ControlPath``: Testinfra's ssh
    backend passes ``-o ControlMaster=auto -o ControlPersist=60s`` on every command but a
    ``ControlPath`` only when its API is given one (``testinfra/backend/ssh.py``, 10.2;
    neither ``--hosts`` nor a host spec's query can), and without a ControlPath OpenSSH
    makes no master: every command is a new login (the ``naive`` rows: 41 logins for 41
    commands). With it, each host costs one login (sshd's count below). Each run gets a
    fresh ControlPath directory and its masters are told to exit after it, so no run
    reuses the last one's logins."""
    cfg = OUT / "own_ssh_config"
    counts = OUT / "own_counts.json"
    times, cpus, logins = [], [], []
    for run in range(repeat):
        control = Path(tempfile.mkdtemp(prefix=f"cm{run}-", dir="/tmp"))  # short: socket paths
        cfg.write_text("".join(
            f"Host {h}\n  HostName {sb.address(h)}\n  User root\n  IdentityFile {sb.key}\n"
            f"  UserKnownHostsFile {sb.known_hosts}\n  StrictHostKeyChecking yes\n"
            f"  BatchMode yes\n  ControlPath {control}/%C\n" for h in hosts))
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
               "-q", str(OWN_MODULE),
               f"--hosts={','.join(f'ssh://{h}' for h in hosts)}", f"--ssh-config={cfg}"]
        before = accepted_logins(sb, hosts)
        wall, cpu = timed_cpu(cmd, {**ENV, "JADA_NAIVE_STATS": str(counts)})
        for h in hosts:
            subprocess.run(["ssh", "-F", str(cfg), "-O", "exit", h], capture_output=True)
        shutil.rmtree(control, ignore_errors=True)
        after = accepted_logins(sb, hosts)
        times.append(wall)
        cpus.append(cpu)
        logins.append(max(after[h] - before[h] - 1 for h in hosts))
    return {"wall_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times],
            "runner_cpu_s": round(statistics.median(cpus), 3),
            "commands_per_host": json.loads(counts.read_text())["commands"] // len(hosts),
            "sshd_logins_per_host": max(logins)}


def own_rows(sb: Sandbox, profile: Path, hosts: list[str]) -> dict[str, Any]:
    """The user's module on every host: the suite alone, with ``-n 2``, plain Testinfra;
    the three interleaved run by run, so a change in the machine's load hits all alike."""
    runs: dict[str, list[dict[str, Any]]] = {"own_alone": [], "own_n2": [], "own_testinfra": []}
    for _ in range(REPEAT):
        runs["own_alone"].append(own_suite(sb, profile, hosts, 0, 1))
        runs["own_n2"].append(own_suite(sb, profile, hosts, 2, 1))
        runs["own_testinfra"].append(own_testinfra(sb, hosts, 1))
    out: dict[str, Any] = {}
    for name, rows in runs.items():
        walls = [r["wall_s"] for r in rows]
        out[name] = dict(rows[-1], wall_s=round(statistics.median(walls), 3), runs=walls,
                         runner_cpu_s=round(statistics.median(r["runner_cpu_s"]
                                                              for r in rows), 3),
                         sshd_logins_per_host=max(r["sshd_logins_per_host"] for r in rows))
    out["own_n2_over_alone"] = round(out["own_n2"]["wall_s"] / out["own_alone"]["wall_s"], 2)
    out["own_testinfra_over_n2"] = round(out["own_testinfra"]["wall_s"]
                                         / out["own_n2"]["wall_s"], 2)
    out.update(own_small_rows(sb, profile, hosts[:OWN_SMALL_HOSTS]))
    return out


def own_small_rows(sb: Sandbox, profile: Path, hosts: list[str]) -> dict[str, Any]:
    """5 calls on 2 hosts (``bench/testinfra_5.py``): alone, ``-n 2`` as the suite decides
    it (no worker: below the break-even, :mod:`jada_checks.run.worker_plan`), and ``-n 2``
    split anyway (``jada_calls_per_worker = 0``), interleaved run by run; median of
    ``max(REPEAT, 5)`` runs each (a run takes seconds)."""
    import yaml

    data = yaml.safe_load(profile.read_text())
    data["targets"] = [t for t in data["targets"] if t["name"] in hosts]
    small = profile.with_name(f"profile-own-small-{len(hosts)}.yaml")
    small.write_text(yaml.safe_dump(data, sort_keys=False))
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in OWN_SMALL_MODES}
    for _ in range(max(REPEAT, 5)):
        for mode, (workers, extra) in OWN_SMALL_MODES.items():
            runs[mode].append(own_suite(sb, small, hosts, workers, 1, OWN_SMALL_MODULE, extra))
    out: dict[str, Any] = {}
    for mode, rows in runs.items():
        walls = [r["wall_s"] for r in rows]
        out[mode] = dict(rows[-1], wall_s=round(statistics.median(walls), 3), runs=walls,
                         runner_cpu_s=round(statistics.median(r["runner_cpu_s"]
                                                              for r in rows), 3))
    alone = out["own_small_alone"]["wall_s"]
    out["own_small_n2_over_alone"] = round(out["own_small_n2"]["wall_s"] / alone, 2)
    out["own_small_n2_split_over_alone"] = round(out["own_small_n2_split"]["wall_s"] / alone, 2)
    return out


def sandbox_name() -> str:
    """The bench's own sandbox: ``$JADA_SANDBOX_NAME`` (else ``bench``), plus the row groups
    ``JADA_BENCH_ONLY`` picks, so two benches run at once never share hosts."""
    base = os.environ.get("JADA_SANDBOX_NAME") or "bench"
    groups = "-".join(sorted(ONLY)).replace("_", "-")  # sandbox names: [a-z0-9-]
    return (base if not ONLY else f"{base}-{groups}")[:31].rstrip("-")


def host_script_rows(sb: Sandbox) -> dict[str, Any]:
    """The fact script of today's catalogue for ``compliant`` (as root, the bench's
    profile), timed on the host; and the host CPU of one bare login."""
    from jada_checks.controls import catalogue
    from jada_checks.dev import host_cost
    from jada_checks.facts.probes import build_script
    from jada_checks.profile import load_profile

    name = "hs1"
    try:
        path = fleet_profile(sb.up({name: str(REPO / "sandbox/hosts/compliant")},
                                   OUT / "profile-host-script.yaml"))
        target = load_profile(path).targets[0]
        assert target.ssh is not None
        catalogue()  # the controls register the probes the script is built from
        script = build_script(target.expect["unit"], sudo=bool(target.ssh.get("sudo")))
        return {**host_cost.script_on_host(sb, name, script, HOST_SCRIPT_RUNS),
                **host_cost.login_on_host(sb, name, target, HOST_LOGINS)}
    finally:
        sb.down()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    # pip compiles an installed suite's bytecode at install time; this editable checkout,
    # run with PYTHONDONTWRITEBYTECODE set, would compile every module at every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "checks")],
                   check=True)
    results: dict[str, Any] = {"repeat": REPEAT, "sizes": {}}
    if "fleet" in ROWS:
        from jada_checks.dev import fleet_bench

        results["fleet"] = fleet_bench.main(OUT, ENV, deployment_dir())
    sb = Sandbox(sandbox_name())
    if "host_script" in ROWS:
        results["host_script"] = host_script_rows(sb)
    sizes = SIZES if "suite" in ROWS else ()
    if "own" in ROWS and OWN_HOSTS not in sizes:
        hosts = [f"h{i}" for i in range(1, OWN_HOSTS + 1)]
        try:
            profile = fleet_profile(sb.up({h: str(REPO / "sandbox/hosts/compliant")
                                           for h in hosts}, OUT / f"profile-{OWN_HOSTS}.yaml"))
            results["sizes"][str(OWN_HOSTS)] = own_rows(sb, profile, hosts)
        finally:
            sb.down()
    for k in sizes:
        hosts = [f"h{i}" for i in range(1, k + 1)]
        try:
            profile = fleet_profile(sb.up({h: str(REPO / "sandbox/hosts/compliant")
                                           for h in hosts}, OUT / f"profile-{k}.yaml"))
            row = {"alone": suite(sb, profile, hosts, 0),
                   "n2": suite(sb, profile, hosts, 2)}
            if k == OWN_HOSTS and "own" in ROWS:
                row.update(own_rows(sb, profile, hosts))
            if k <= NAIVE_MAX_HOSTS:
                row["naive"] = naive(sb, hosts, REPEAT if k == 1 else 1)
            if k == 1:
                # HTTP probes run beside the SSH facts: what they add to one host's run
                row["alone_http"], row["without_http"] = paired(
                    sb, profile, without_http(profile), hosts, max(REPEAT, 5))
                results["http_added_s"] = round(row["alone_http"]["wall_s"]
                                                - row["without_http"]["wall_s"], 3)
                results["physical_limit_s"] = physical_limit(profile, max(REPEAT, 5))
                results["testinfra_call"] = testinfra_call_cost(sb)
                for name, spec in BASELINES.items():
                    if name != "naive":
                        row[name] = naive(sb, hosts, REPEAT, spec)
                results["collect_only_s"] = round(statistics.median(timed(
                    [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                     "--collect-only", "--jada-profile", str(profile)]) for _ in range(REPEAT)), 3)
        finally:
            sb.down()
        for name in BASELINES:
            if name in row:
                key = "speedup_vs_naive" + name.removeprefix("naive")
                row[key] = round(row[name]["wall_s"] / row["alone"]["wall_s"], 1)
        results["sizes"][str(k)] = row
    sizes = results["sizes"]
    one = sizes.get("1", {}).get("alone", {}).get("wall_s")
    eight = sizes.get("8", {}).get("n2", {}).get("wall_s")
    if one and eight:
        results["8_hosts_n2_over_1_host"] = round(eight / one, 2)
    ks = sorted(int(k) for k in sizes)
    if len(ks) > 1:
        lo, hi = sizes[str(ks[0])]["alone"], sizes[str(ks[-1])]["alone"]
        results["runner_cpu_per_added_host_s"] = round(
            (hi["runner_cpu_s"] - lo["runner_cpu_s"]) / (ks[-1] - ks[0]), 3)
    shutil.rmtree(deployment_dir(), ignore_errors=True)
    name = "results.json" if not ONLY else f"results-{'-'.join(sorted(ONLY))}.json"
    (OUT / name).write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    if "fleet" in results:
        from jada_checks.dev import fleet_bench

        print(fleet_bench.table(results["fleet"]))
    print(f"\nwritten: {OUT / name}")
    return 0


def table(r: dict[str, Any]) -> str:
    # The mode column fits the longest mode name (own_small_n2_split is 18 characters).
    w = max(15, *(len(m) for m in ("physical limit", *BASELINES, *OWN_MODES, *OWN_SMALL_MODES)))
    head = (f"{'hosts':>5} {'mode':<{w}} {'wall s':>7} {'cpu s':>6} {'cmds/host':>9} "
            f"{'conns/host':>10} {'sshd logins/host':>16} {'peak MiB/worker':>15}")
    lines = [head, "-" * len(head)]
    if "physical_limit_s" in r:
        lines.append(f"{1:>5} {'physical limit':<{w}} {r['physical_limit_s']:>7.2f} "
                     f"{'-':>6} {1:>9} {1:>10}  (one login + the fact script, nothing else)")
    for k, row in r["sizes"].items():
        for mode in ("alone", "n2", "alone_http", "without_http", *BASELINES, *OWN_MODES,
                     *OWN_SMALL_MODES):
            if mode not in row:
                continue
            m = row[mode]
            lines.append(f"{k:>5} {mode:<{w}} {m['wall_s']:>7.2f} {m['runner_cpu_s']:>6.2f} "
                         f"{m.get('commands_per_host', '-'):>9} "
                         f"{m.get('connections_per_host', '-'):>10} "
                         f"{m['sshd_logins_per_host']:>16} "
                         f"{m.get('peak_rss_mib_per_worker', '-'):>15}")
        speedups = [f"{key.removeprefix('speedup_vs_')} {v}x" for key, v in row.items()
                    if key.startswith("speedup_vs_")]
        if speedups:
            lines.append(f"{'':>5} suite alone is faster than: {', '.join(speedups)}")
        if "own_n2_over_alone" in row:
            lines.append(f"{'':>5} 40 Testinfra calls per host: -n 2 / alone "
                         f"{row['own_n2_over_alone']}x, plain Testinfra / -n 2 "
                         f"{row['own_testinfra_over_n2']}x; records not passed: "
                         f"{row['own_alone']['not_passed']} alone, "
                         f"{row['own_n2']['not_passed']} with -n 2")
        if "own_small_n2_over_alone" in row:
            lines.append(f"{'':>5} 5 Testinfra calls on 2 hosts: -n 2 / alone "
                         f"{row['own_small_n2_over_alone']}x "
                         f"({row['own_small_n2']['xdist_workers']} workers), split anyway / "
                         f"alone {row['own_small_n2_split_over_alone']}x "
                         f"({row['own_small_n2_split']['xdist_workers']} workers)")
    if "runner_cpu_per_added_host_s" in r:
        lines.append(f"runner CPU per added host: {r['runner_cpu_per_added_host_s']:.3f} s")
    if "collect_only_s" in r:
        lines.append(f"pytest --collect-only: {r['collect_only_s']:.2f} s")
    if "http_added_s" in r:
        lag = r["sizes"].get("1", {}).get("alone_http", {}).get("http_after_ssh_facts_s")
        lines.append(f"JADA-HTTP adds to a 1-host run: {r['http_added_s']:+.3f} s wall "
                     "(median alone_http - median without_http); its probes were done "
                     f"{lag if lag is not None else '?'} s after the SSH facts (median)")
    if "testinfra_call" in r:
        t = r["testinfra_call"]
        lines.append(f"one Testinfra call ({t['calls']} calls, median): "
                     f"{t['shared_ms']:.1f} ms over the shared login "
                     f"({t['shared_runner_cpu_ms']:.1f} ms CPU; sshd logins: "
                     f"{t['shared_sshd_logins']}), {t['fresh_login_ms']:.1f} ms with a fresh "
                     f"login per call ({t['fresh_login_runner_cpu_ms']:.1f} ms CPU)")
    if "host_script" in r:
        h = r["host_script"]
        lines.append(f"fact script on the host (median of {h['host_script_runs']}): "
                     f"host_script_cpu_s {h['host_script_cpu_s']:.3f}, host_script_wall_s "
                     f"{h['host_script_wall_s']:.3f}; one bare login: host_login_cpu_s "
                     f"{h['host_login_cpu_s']:.4f} (mean of {h['host_login_logins']})")
    if "8_hosts_n2_over_1_host" in r:
        lines.append(f"8 hosts with -n 2 / 1 host alone: {r['8_hosts_n2_over_1_host']}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
