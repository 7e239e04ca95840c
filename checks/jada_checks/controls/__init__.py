"""The control catalogue: one module per area, each registering its controls on import.

To add an area, write ``checks/jada_checks/controls/<area>.py`` using
:func:`jada_checks.model.control` and add it to ``AREA_MODULES``; nothing else needs to
change.
"""

from __future__ import annotations

import importlib

from jada_checks.model import REGISTRY, Control

AREA_MODULES = (
    "jada_checks.controls.unit",
    "jada_checks.controls.unit_policy",
    "jada_checks.controls.fd",
    "jada_checks.controls.lim",
    "jada_checks.controls.net",
    "jada_checks.controls.lightsail",
    "jada_checks.controls.cfg",
    "jada_checks.controls.http",
)


def catalogue() -> list[Control]:
    """Every registered control, in ID order."""
    for name in AREA_MODULES:
        importlib.import_module(name)
    return [REGISTRY[k] for k in sorted(REGISTRY)]
