"""Secrets never appear in any output, at any verbosity: canaries are planted in
settings.json (env, apiKeyHelper, hooks), the unit's Environment= and EnvironmentFile=
(host ``cfg-canary``) and the profile, then every output of a full run is searched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("cfg-canary")

CANARIES = ("CANARY-HELPER-7f3a9c", "CANARY-APIKEY-5d21e8b4", "CANARY-ENVNOTE-91c0aa",
            "CANARY-HOOK-2b7e61", "CANARY-UNITENV-4c8e1f", "CANARY-ENVFILE-a93d07",
            "CANARY-PROFILE-77b2d4")


def test_no_canary_in_any_output_of_a_full_run(sandbox: SandboxHarness, tmp_path: Path) -> None:
    profile = sandbox.profile_for(["cfg-canary"], tmp_path / "profile.yaml")
    profile.write_text(profile.read_text() + "# deploy token: CANARY-PROFILE-77b2d4\n")
    out = {ext: tmp_path / f"report.{ext}" for ext in ("md", "html", "xml")}
    run = sandbox.run_suite([], "-vv", "-rA", "--jada-report-md", str(out["md"]),
                            "--jada-report-html", str(out["html"]), "--junitxml", str(out["xml"]),
                            profile=profile)
    # the run really looked: the settings file and the unit's environment were read
    assert run.record("JADA-CFG-01", "cfg-canary")["outcome"] == "pass"
    assert run.record("JADA-CFG-02", "cfg-canary")["outcome"] == "pass"
    texts = {"terminal": run.output, "json": str(run.report)}
    texts.update({ext: path.read_text() for ext, path in out.items()})
    for name, text in texts.items():
        assert len(text) > 200, name
        for canary in CANARIES:
            assert canary not in text, f"{canary} leaked into the {name} output"
