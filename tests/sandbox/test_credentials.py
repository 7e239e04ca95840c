"""The sandbox's profile names its own dummy credentials, usable only on loopback.

``aws.credentials: sandbox`` lets the sandbox's profile work with nothing exported, while
real AWS keeps the standard chain: the setting is refused (at profile load and again when
the client is made) unless ``endpoint_url`` is http on a loopback address.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jada_checks.aws.lightsail import AwsSettings, _make_client, sandbox_credentials_problem
from jada_checks.inputs import InputError
from jada_checks.model import CheckError
from jada_checks.profile import load_profile


def write(tmp_path: Path, endpoint: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(f"version: 1\naws: {{endpoint_url: '{endpoint}', credentials: sandbox}}\n"
                    "targets:\n  - name: a\n    lightsail: {instance: i, region: us-east-1}\n")
    return path


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123", "http://localhost:9",
                                 "http://[::1]:80"])
def test_loopback_endpoint_accepts_sandbox_credentials(tmp_path: Path, url: str) -> None:
    assert load_profile(write(tmp_path, url)).aws["credentials"] == "sandbox"
    client = _make_client(AwsSettings(endpoint_url=url, credentials="sandbox"), "us-east-1")
    assert client._request_signer._credentials.access_key == "sandbox"  # noqa: SLF001


@pytest.mark.parametrize("url", ["https://lightsail.us-east-1.amazonaws.com",
                                 "http://10.0.0.1:80", "https://127.0.0.1:443", "None"])
def test_any_other_endpoint_refuses_them(tmp_path: Path, url: str) -> None:
    with pytest.raises(InputError, match=r"/aws/credentials: aws.credentials 'sandbox' needs a "
                                         "loopback http endpoint_url"):
        load_profile(write(tmp_path, url))
    with pytest.raises(CheckError, match="needs a loopback http endpoint_url"):
        _make_client(AwsSettings(endpoint_url=url, credentials="sandbox"), "us-east-1")
    assert sandbox_credentials_problem(None)


def test_default_is_the_standard_chain(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\ntargets:\n  - name: a\n    lightsail: {instance: i, "
                    "region: us-east-1}\n")
    assert load_profile(path).aws["credentials"] == "chain"
