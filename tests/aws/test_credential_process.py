"""A profile's ``credential_process`` is started with an environment of its own.

botocore starts it from the fact thread that makes the first Lightsail call, while
pytest changes its own environment variable around every test phase (the race that
``jada_checks.processes`` names). The process here is real: a script that prints the
credential_process JSON (botocore's documented format, Version 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jada_checks import processes
from jada_checks.aws.lightsail import AwsSettings, _make_client
from tests.test_processes import churning_environment

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


def test_botocore_starts_it_through_processes(process_profile: Path) -> None:
    """Pins botocore's hook (ProcessProvider's popen): if botocore moves it, this fails."""
    client = _make_client(settings(), "us-east-1")
    assert client._request_signer._credentials.access_key == KEY  # noqa: SLF001
    assert process_profile.read_text() == "run\n"
    from botocore.credentials import ProcessProvider

    assert ProcessProvider.METHOD == "custom-process"
    assert client._request_signer._credentials.method == "custom-process"  # noqa: SLF001


def test_it_starts_while_another_thread_changes_the_environment(
        process_profile: Path) -> None:
    clients = []
    with churning_environment():
        for _ in range(10):
            clients.append(_make_client(settings(), "us-east-1"))
    assert [c._request_signer._credentials.access_key for c in clients] == [KEY] * 10  # noqa: SLF001
    assert process_profile.read_text() == "run\n" * 10


def test_the_session_hands_botocore_the_popen_of_processes(process_profile: Path) -> None:
    import boto3

    from jada_checks.aws.lightsail import _credential_process_via_processes

    session = boto3.Session(profile_name="jada-proc")
    _credential_process_via_processes(session)
    provider = session._session.get_component("credential_provider").get_provider(  # noqa: SLF001
        "custom-process")
    assert provider._popen is processes.popen  # noqa: SLF001
