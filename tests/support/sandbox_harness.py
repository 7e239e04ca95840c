"""Self-test harness: boot the sandbox once, run the real suite against some of its hosts.

The suite runs in a subprocess exactly as a user runs it (``python -m pytest --jada-profile``),
and its JSON report is read back, so the self-tests see what users see.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jada_checks import processes
from jada_checks.sandbox.sandbox import SANDBOX_AWS_ENV, Sandbox
from tests.support.paths import HOSTS_DIR, REPO

SCRATCH = ("scratch-1", "scratch-2", "scratch-3")

SANDBOX_ENV = {**SANDBOX_AWS_ENV, "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}


@dataclass
class Run:
    exitcode: int
    output: str
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.report.get("records", [])

    def record(self, control: str, host: str) -> dict[str, Any]:
        for rec in self.records:
            if rec["control"] == control and rec["target"] == host:
                return rec
        raise AssertionError(f"no record for {control}[{host}]; output:\n{self.output[-3000:]}")

    def outcomes(self, host: str, side_prefixes: tuple[str, ...] = ("JADA-",)) -> dict[str, str]:
        return {r["control"]: r["outcome"] for r in self.records
                if r["target"] == host and r["control"].startswith(side_prefixes)}


def all_host_dirs() -> dict[str, Path]:
    hosts = {d.name: d for d in sorted(HOSTS_DIR.iterdir()) if (d / "rootfs").is_dir()
             or (d / "inherits").is_file()}
    for name in SCRATCH:
        hosts[name] = HOSTS_DIR / "compliant"
    return hosts


class SandboxHarness:
    def __init__(self, sandbox: Sandbox, workdir: Path):
        self.sandbox = sandbox
        self.workdir = workdir
        self._n = 0

    def profile_for(self, hosts: list[str], path: Path | None = None) -> Path:
        self.ensure(hosts)
        self._n += 1
        path = path or self.workdir / f"profile-{self._n}.yaml"
        return self.sandbox.write_profile(hosts, path)

    def ensure(self, hosts: list[str]) -> None:
        """Boot hosts the module did not declare (slower than declaring them: one more
        boot batch), so a missing declaration costs time, never a wrong result."""
        missing = [h for h in hosts if h not in self.sandbox.machines()]
        if missing:
            every = all_host_dirs()
            self.sandbox.add({h: str(every[h]) for h in missing})

    def ssh(self, host: str, command: str, timeout: float = 30) -> str:
        self.ensure([host])
        return self.sandbox.ssh(host, command, timeout)

    def run_suite(self, hosts: list[str], *args: str, profile: Path | None = None,
                  timeout: float = 300, env: dict[str, str] | None = None) -> Run:
        """Run the suite on ``hosts`` (or a given profile) and read its JSON report."""
        profile = profile or self.profile_for(hosts)
        self._n += 1
        report = self.workdir / f"report-{self._n}.json"
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--jada-profile",
               str(profile), "--jada-report-json", str(report), "-q", *args]
        full_env = {**os.environ, **SANDBOX_ENV, **(env or {})}
        full_env.pop("JADA_PROFILE", None)
        res = processes.run(cmd, capture_output=True, text=True, timeout=timeout,
                            cwd=REPO, env=full_env)
        data = json.loads(report.read_text()) if report.exists() else {}
        return Run(res.returncode, res.stdout + res.stderr, data)
