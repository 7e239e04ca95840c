"""Writing the rendered reports: each format's renderer, imported only when asked for.

Every report (JSON, Markdown, HTML, SARIF, GitLab code quality, metrics) is rendered from
the finished JSON document, by the pytest run and by ``jada-checks merge-reports`` alike.
Files are written atomically (a temporary file in the same directory, then a rename), so
a reader that polls them (node_exporter's textfile collector, a CI uploader) never sees
half a report; the temporary name does not end like the report (``*.prom`` stays clean).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

# format -> module under jada_checks.reporting with ``render(doc) -> str``
RENDERERS = {
    "md": "markdown",
    "html": "html",
    "sarif": "sarif",
    "codequality": "codequality",
    "metrics": "metrics",
}


def write_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def render(doc: dict[str, Any], fmt: str) -> str:
    module = importlib.import_module(f"jada_checks.reporting.{RENDERERS[fmt]}")
    return module.render(doc)


def write(doc: dict[str, Any], fmt: str, path: str | Path) -> None:
    write_atomic(path, render(doc, fmt))
