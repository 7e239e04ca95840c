"""A profile's ``credential_process`` is started with an environment of its own.

botocore starts it from the fact thread that makes the first Lightsail call, while
pytest changes its own environment variable around every test phase (the race that
``jada_checks.processes`` names, and ``tests/test_processes.py`` provokes). The process
here is real: a script that prints the credential_process JSON (botocore's documented
format, Version 1).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jada_checks import processes
from jada_checks.aws.lightsail import AwsSettings, _make_client

KEY = "AKIDJADAPROCESS"


@pytest.fixture
def process_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS config whose one profile gets its credentials from a process; the file
    the process appends one line to each time it runs."""
    runs = tmp_path / "runs"
    script = tmp_path / "creds.sh"
    answer = json.dumps({"Version": 1, "AccessKeyId": KEY, "SecretAccessKey": "not-a-secret"})
    script.write_text(f"echo run >> {runs}\nprintf '%s' '{answer}'\n")
    config = tmp_path / "config"
    config.write_text(f"[profile jada-proc]\ncredential_process = /bin/sh {script}\n")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    return runs


def settings() -> AwsSettings:
    return AwsSettings(profile="jada-proc", endpoint_url="http://127.0.0.1:9")


def test_botocore_starts_it_through_processes(process_profile: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The process botocore starts for the profile is started by processes.popen (a
    counting stand-in for it here): if botocore moves its hook, this fails."""
    started: list[list[str]] = []

    def counting_popen(argv: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        started.append(list(argv))
        return popen(argv, **kwargs)

    popen = processes.popen
    monkeypatch.setattr(processes, "popen", counting_popen)
    client = _make_client(settings(), "us-east-1")
    assert client._request_signer._credentials.access_key == KEY  # noqa: SLF001
    assert client._request_signer._credentials.method == "custom-process"  # noqa: SLF001
    assert process_profile.read_text() == "run\n"
    assert len(started) == 1 and started[0][0] == "/bin/sh", started
