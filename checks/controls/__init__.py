"""The control catalogue: one module per area, each registering its controls on import.

To add an area, write ``checks/controls/<area>.py`` using :func:`checks.model.control`
and add it to ``AREA_MODULES``; nothing else needs to change.
"""

from __future__ import annotations

import importlib

from checks.model import REGISTRY, Control

AREA_MODULES = (
    "checks.controls.unit",
    "checks.controls.unit_policy",
    "checks.controls.fd",
    "checks.controls.lim",
    "checks.controls.net",
    "checks.controls.lightsail",
    "checks.controls.cfg",
)


def catalogue() -> list[Control]:
    """Every registered control, in ID order."""
    for name in AREA_MODULES:
        importlib.import_module(name)
    return [REGISTRY[k] for k in sorted(REGISTRY)]
