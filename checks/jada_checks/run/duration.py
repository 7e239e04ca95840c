"""Parsing human durations for ``--jada-retry-timeout``: ``90s``, ``2m``, ``1h30m``,
``2 mins``, ``1 hour 30 minutes`` and a bare ``45`` (seconds).

Spelled-out units are accepted because that is what people type; anything else is refused
before the run starts, with examples, rather than guessed at.
"""

from __future__ import annotations

import re

UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
WORDS = {
    "ms": "ms", "msec": "ms", "msecs": "ms", "millisecond": "ms", "milliseconds": "ms",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
}
PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)")
UNIT_WORD = re.compile("^(?:" + "|".join(sorted(WORDS, key=len, reverse=True)) + ")$",
                       re.IGNORECASE)
EXAMPLES = "examples: 90s, 2m, 1h30m, '2 mins'"


def parse_duration(text: str) -> float:
    """Seconds in ``text``; a bare number means seconds. Raises ValueError if malformed."""
    s = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    parts, pos = [], 0
    for m in PART.finditer(s):
        if m.start() != pos or m.group(2) not in WORDS:
            break
        parts.append((float(m.group(1)), WORDS[m.group(2)]))
        pos = m.end()
    if not s or not parts or pos != len(s):
        raise ValueError(f"{text!r} is not a duration ({EXAMPLES})")
    return sum(n * UNITS[u] for n, u in parts)
