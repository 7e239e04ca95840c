"""Bench helper plugin (``-p jada_checks.dev.finish_timer``): how long the run's end takes,
i.e. every ``pytest_sessionfinish`` (building the JSON document, writing each report and
pytest's JUnit XML), written as JSON to ``$JADA_FINISH_TIMER``. Used by ``make bench`` only."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from pathlib import Path

import pytest


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish() -> Generator[None, None, None]:
    start = time.monotonic()
    yield
    path = os.environ.get("JADA_FINISH_TIMER")
    if path:
        Path(path).write_text(json.dumps({"seconds": round(time.monotonic() - start, 3)}))
