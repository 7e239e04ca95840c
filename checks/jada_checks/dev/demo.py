"""``make demo``: boot ``compliant`` and ``drifted``, check both in parallel, tear down.

Exits 0 only when ``compliant`` passed every control and ``drifted`` failed (or errored)
exactly the faults listed in ``sandbox/hosts/drifted/faults.yaml``. A first run makes a
baseline; a runtime change on ``drifted`` then shows up in the final run's drift section.
The user checks of ``examples/own-checks`` run beside the controls (README, "Writing your
own checks"): their outcomes must be the example's ``expected.yaml``, and every report
must hold them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from jada_checks.sandbox.sandbox import REPO, Sandbox

OUT = REPO / "build" / "demo"
HOSTS = {"compliant": REPO / "sandbox/hosts/compliant", "drifted": REPO / "sandbox/hosts/drifted"}
EXAMPLE = REPO / "examples" / "own-checks"
# Reports that list every result, and those that list findings (fail/error) only.
EVERY = ("report.json", "report.md", "report.html", "junit.xml", "metrics.prom")
FINDINGS_ONLY = ("report.sarif", "codequality.json")


def pytest_run(profile: Path, *args: str) -> int:
    # --noconftest: the controls are the installed plugin; the checkout's own conftest files
    # belong to the self-tests and import their extras (hypothesis), which make demo does
    # not install.
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--noconftest",
           "--jada-profile", str(profile), "-n", "2", *args]
    # No AWS variables: the sandbox's profile carries its own (loopback-only) credentials.
    env = {k: v for k, v in os.environ.items()
           if k != "JADA_PROFILE" and not k.startswith("AWS_")}
    return subprocess.run(cmd, cwd=REPO, env=env).returncode


def verdict(report: dict, faults: dict[str, str]) -> list[str]:
    """What is wrong with the outcome, as lines; empty when the demo succeeded."""
    problems = []
    got: dict[str, dict[str, str]] = {"compliant": {}, "drifted": {}}
    for rec in report["records"]:
        got.setdefault(rec["target"], {})[rec["control"]] = rec["outcome"]
    for control, outcome in sorted(got["compliant"].items()):
        if outcome != "pass":
            problems.append(f"compliant: {control} is {outcome}, expected pass")
    for control, outcome in sorted(got["drifted"].items()):
        want = faults.get(control, "pass")
        if outcome != want:
            problems.append(f"drifted: {control} is {outcome}, expected {want}")
    for control in sorted(set(faults) - set(got["drifted"])):
        problems.append(f"drifted: documented fault {control} was not checked")
    return problems


def own_problems(report: dict) -> list[str]:
    """The example's checks must be in every report: each id in those that list every
    result, each failing one in those that list findings."""
    own = [r for r in report["records"] if r["area"] == "own"]
    if not own:
        return ["examples/own-checks: no record of the example's checks in the report"]
    problems = []
    for name in EVERY + FINDINGS_ONLY:
        text = (OUT / name).read_text()
        wanted = own if name in EVERY else [r for r in own if r["outcome"] in ("fail", "error")]
        for control in sorted({r["control"] for r in wanted}):
            if control not in text:
                problems.append(f"{name}: the example's check {control} is missing")
    return problems


def drift_problems(report: dict) -> list[str]:
    """The runtime change the demo makes (somaxconn 1536 -> 2048 on drifted, failing both
    times) must appear in the final run's drift section as a changed value."""
    for e in (report.get("drift") or {}).get("changed", []):
        if (e["target"], e["control"]) == ("drifted", "JADA-NET-01") and \
                "1536" in (e["observed_from"] or "") and "2048" in (e["observed_to"] or ""):
            return []
    return ["drift: the somaxconn change 1536 -> 2048 on drifted (JADA-NET-01) is not in "
            "the report's drift section"]


def summary(report: dict) -> str:
    rows: dict[str, dict[str, int]] = {}
    for rec in report["records"]:
        counts = rows.setdefault(rec["target"], {"pass": 0, "fail": 0, "error": 0, "skipped": 0})
        counts[rec["outcome"]] += 1
    lines = [f"{'target':<12} {'pass':>5} {'fail':>5} {'error':>6} {'skipped':>8}"]
    for target, c in sorted(rows.items()):
        lines.append(f"{target:<12} {c['pass']:>5} {c['fail']:>5} {c['error']:>6} "
                     f"{c['skipped']:>8}")
    return "\n".join(lines)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    faults = yaml.safe_load((HOSTS["drifted"] / "faults.yaml").read_text())["faults"]
    own = yaml.safe_load((EXAMPLE / "expected.yaml").read_text())
    faults = {**faults, **own["drifted"]}  # compliant passes the example's checks too
    sb = Sandbox("demo")
    try:
        profile = sb.up({n: str(p) for n, p in HOSTS.items()}, OUT / "profile.yaml")
        print(f"booted {', '.join(HOSTS)}; profile {profile}", flush=True)
        checks = str(EXAMPLE / "checks")  # the example's own checks, beside the controls
        pytest_run(profile, checks, "-q", "--jada-report-json", str(OUT / "baseline.json"))
        sb.ssh("drifted", "sysctl -q -w net.core.somaxconn=2048")
        pytest_run(profile, checks, "--jada-baseline", str(OUT / "baseline.json"),
                   "--jada-report-json", str(OUT / "report.json"),
                   "--jada-report-md", str(OUT / "report.md"),
                   "--jada-report-html", str(OUT / "report.html"),
                   "--junitxml", str(OUT / "junit.xml"),
                   "--jada-report-sarif", str(OUT / "report.sarif"),
                   "--jada-report-codequality", str(OUT / "codequality.json"),
                   "--jada-report-metrics", str(OUT / "metrics.prom"))
    finally:
        sb.down()
    report = json.loads((OUT / "report.json").read_text())
    print("\n" + summary(report))
    problems = verdict(report, faults) + drift_problems(report) + own_problems(report)
    print(f"\nreports: {OUT}")
    if problems:
        print("DEMO FAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"DEMO OK: compliant passed every control and every check of "
          f"examples/own-checks; drifted failed exactly its {len(faults)} documented faults "
          f"(the example's included); every report holds the example's checks; drift shows "
          f"somaxconn 1536 -> 2048")
    return 0


if __name__ == "__main__":
    sys.exit(main())
