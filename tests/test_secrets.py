"""Secrets never appear in any output, at any verbosity: canaries are planted in
settings.json (env, apiKeyHelper, hooks), the unit's Environment= and EnvironmentFile=,
an agent's own environment (a value and a variable name), argv and inline --settings
(host ``cfg-canary``) and the profile, then every output of a full run is searched. And
the filtering happens on the target: what the fact script sends back, every base64 field
decoded, holds no environment variable or argument outside what it selects."""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from pathlib import Path

import pytest

from jada_checks.controls import catalogue
from jada_checks.facts.probes import build_script
from tests.support.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("cfg-canary")

CANARIES = ("CANARY-HELPER-7f3a9c", "CANARY-APIKEY-5d21e8b4", "CANARY-ENVNOTE-91c0aa",
            "CANARY-HOOK-2b7e61", "CANARY-UNITENV-4c8e1f", "CANARY-ENVFILE-a93d07",
            "CANARY-PROFILE-77b2d4", "CANARY-PROCENV-3f9a27", "CANARY_NAME_b81d4c",
            "CANARY-ARGV-6e2d90", "CANARY-INLINE-c40e5a")
# Never even sent: environment values and names (unit, EnvironmentFile=, an agent's own
# environment) and an agent argument that is no model flag. Settings content (files and
# inline --settings JSON) is sent whole, as documented, and never printed.
NEVER_SENT = ("CANARY-UNITENV-4c8e1f", "CANARY-ENVFILE-a93d07", "CANARY-PROCENV-3f9a27",
              "CANARY_NAME_b81d4c", "CANARY-ARGV-6e2d90", "GITHUB_TOKEN", "ANTHROPIC_AUTH_TOKEN")


def test_no_canary_in_any_output_of_a_full_run(sandbox: SandboxHarness, tmp_path: Path) -> None:
    profile = sandbox.profile_for(["cfg-canary"], tmp_path / "profile.yaml")
    profile.write_text(profile.read_text() + "# deploy token: CANARY-PROFILE-77b2d4\n")
    out = {ext: tmp_path / f"report.{ext}" for ext in ("md", "html", "xml", "sarif", "cq",
                                                        "prom")}
    run = sandbox.run_suite([], "-vv", "-rA", "--jada-report-md", str(out["md"]),
                            "--jada-report-html", str(out["html"]), "--junitxml", str(out["xml"]),
                            "--jada-report-sarif", str(out["sarif"]),
                            "--jada-report-codequality", str(out["cq"]),
                            "--jada-report-metrics", str(out["prom"]), profile=profile)
    # the run really looked: the settings file and the unit's environment were read
    assert run.record("JADA-CFG-01", "cfg-canary")["outcome"] == "pass"
    assert run.record("JADA-CFG-02", "cfg-canary")["outcome"] == "pass"
    texts = {"terminal": run.output, "json": str(run.report)}
    texts.update({ext: path.read_text() for ext, path in out.items()})
    for name, text in texts.items():
        assert len(text) > 200 or name == "cq", name  # code quality: findings only
        for canary in CANARIES:
            assert canary not in text, f"{canary} leaked into the {name} output"


def decoded(text: str) -> str:
    """``text`` and every base64 run in it decoded (the script base64s free text)."""
    parts = [text]
    for token in re.findall(r"[A-Za-z0-9+/]{8,}={0,2}", text):
        try:
            parts.append(base64.b64decode(token + "=" * (-len(token) % 4))
                         .decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    return "\n".join(parts)


def test_the_script_sends_no_other_variable_or_argument(sandbox: SandboxHarness) -> None:
    catalogue()  # every control module registers its probes
    script = build_script("jada-agent.service")
    res = sandbox.sandbox.ssh_raw(sandbox.sandbox.address("cfg-canary"),
                                  f"timeout -k 3 60 bash -c {shlex.quote(script)}", timeout=90)
    assert res.returncode == 0, res.stderr[-2000:]
    wire = decoded(res.stdout + res.stderr)
    # the decoding works and the process facts were read: the inline settings travelled,
    # and the agents' own ANTHROPIC_MODEL (inherited from the EnvironmentFile=) did too
    assert "CANARY-INLINE-c40e5a" in wire and "@@JADA-BEGIN cfg_procs" in wire
    assert re.search(r"^V\t\d+\tANTHROPIC_MODEL\t", res.stdout, re.M), res.stdout[-3000:]
    for secret in NEVER_SENT:
        assert secret not in wire, f"{secret} left the target"
