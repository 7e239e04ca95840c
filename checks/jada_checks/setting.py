"""A resolved option value and where it came from: what the options resolve and the stash
holds, in a module of its own so that both import it and neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Source = Literal["option", "environment", "ini", "default"]


@dataclass(frozen=True)
class Setting:
    """A resolved value and where it came from (for the header and for error messages)."""

    value: Any
    source: Source
    origin: str  # "--jada-fail-on", "$JADA_PROFILE", "jada_fail_on in /x/pytest.ini", "default"
    shadowed: tuple[str, ...] = ()  # lower-precedence places that also set it
