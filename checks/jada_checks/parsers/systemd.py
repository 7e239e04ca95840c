"""Parsers for systemd's machine-readable output."""

from __future__ import annotations


def parse_show(text: str) -> dict[str, str]:
    """Parse ``systemctl show`` output (``Key=Value`` lines) into a dict.

    Values may contain ``=``; only the first one separates. Lines without ``=`` are
    ignored (systemctl prints none, but a truncated answer might).
    """
    props: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key and " " not in key:
            props[key] = value
    return props
