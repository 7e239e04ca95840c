"""The control catalogue: every module of this package registers its controls on import.

Controls are found by convention, as in Prowler: a module here is a module of controls, and
nothing lists them. Adding a control: docs/architecture.md, "Adding a control".
"""

from __future__ import annotations

import importlib
import pkgutil

from jada_checks.model import REGISTRY, Control


def control_modules() -> list[str]:
    """Every module of this package, by name (the order the fact script's sections take)."""
    return sorted(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__))


def catalogue() -> list[Control]:
    """Every registered control, in ID order."""
    for name in control_modules():
        importlib.import_module(name)
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def areas() -> list[str]:
    """The areas of the catalogue (``JADA-<AREA>-NN``), as marker suffixes: unit, fd, ..."""
    return sorted({c.area for c in catalogue()})
