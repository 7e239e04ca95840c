"""Parsing human durations for ``--jada-retry-timeout`` (``90s``, ``2m``, ``1m30s``, ``45``)."""

from __future__ import annotations

import re

UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; a bare number means seconds. Raises ValueError if malformed."""
    s = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    if not s or not re.fullmatch(rf"(?:{PART.pattern})+", s):
        raise ValueError(f"{text!r} is not a duration (examples: 90s, 2m, 1m30s)")
    return sum(float(n) * UNITS[u] for n, u in PART.findall(s))
