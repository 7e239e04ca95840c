"""The README's control table, generated from the registry, so that a new control needs no
hand-written row: ``make docs`` (``python -m jada_checks.catalogue_table README.md``)
rewrites the block between the markers, and ``tests/test_docs.py`` fails while the
README's block differs from what the registry gives."""

from __future__ import annotations

import sys
from pathlib import Path

import jada_checks
from jada_checks.controls import catalogue
from jada_checks.model import Control

BEGIN = "<!-- controls: generated from the registry by `make docs`; do not edit -->"
END = "<!-- controls: end -->"
# Absolute links at the release tag: the README is also the wheel's long description, the
# package index page, where a relative link would point into the index
# (tests/test_metadata.py). OWNER/jada-checks is the placeholder the CI files use too.
DOCS_URL = f"https://github.com/OWNER/jada-checks/blob/v{jada_checks.__version__}/docs"
# The page that explains each area's rules (docs/), for the table's links.
AREA_DOCS = {"unit": "host-controls.md", "fd": "host-controls.md", "lim": "host-controls.md",
             "net": "host-controls.md", "cfg": "settings.md", "ls": "lightsail.md",
             "http": "http.md"}


def doc_page(control: Control) -> str:
    """The docs page of the control's area (host controls for an area not listed yet)."""
    return AREA_DOCS.get(control.area, "host-controls.md")


def table(controls: list[Control]) -> str:
    rows = ["| ID | severity | side | what it proves |", "|---|---|---|---|"]
    for c in controls:
        rows.append(f"| [{c.id}]({DOCS_URL}/{doc_page(c)}) | {c.severity} | {c.side} "
                    f"| {c.title} |")
    return "\n".join(rows)


def rewrite(text: str, controls: list[Control]) -> str:
    """``text`` with the block between the markers replaced by the table."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}\n{table(controls)}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "README.md")
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"{path}: no control table markers ({BEGIN} ... {END})", file=sys.stderr)
        return 2
    new = rewrite(text, catalogue())
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: control table rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
