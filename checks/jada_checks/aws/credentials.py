"""The sandbox's fixed credentials and where they may be used: only against a loopback http
endpoint (the sandbox's local Lightsail endpoint), never against AWS. Apart from the client
so that the profile loader can check them without importing boto3 or the Lightsail code."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

SANDBOX_CREDENTIALS = ("sandbox", "sandbox-secret")


def sandbox_credentials_problem(endpoint_url: str | None) -> str | None:
    """Why ``credentials: sandbox`` cannot be used with ``endpoint_url``, or None."""
    url = urlsplit(endpoint_url or "")
    try:
        loopback = url.hostname == "localhost" or ipaddress.ip_address(
            url.hostname or "").is_loopback
    except ValueError:
        loopback = False
    if url.scheme == "http" and loopback:
        return None
    return (f"aws.credentials 'sandbox' needs a loopback http endpoint_url (the sandbox's "
            f"local endpoint), not {endpoint_url!r}; real AWS uses credentials 'chain'")
