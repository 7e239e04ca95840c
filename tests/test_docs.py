"""The documentation follows the registry: the README's control table is the registry's
(``make docs`` writes it), and every control has its row on its area's docs page."""

from __future__ import annotations

import re

import pytest

from jada_checks.catalogue_table import BEGIN, END, doc_page, rewrite
from jada_checks.controls import catalogue
from tests.support.paths import REPO

CONTROLS = catalogue()


def test_readme_control_table_is_the_registrys() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert rewrite(text, CONTROLS) == text, "the README's control table is stale: make docs"


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_every_control_has_a_row_on_its_docs_page(control) -> None:  # noqa: ANN001
    page = REPO / "docs" / doc_page(control)
    rows = [line for line in page.read_text(encoding="utf-8").splitlines()
            if line.startswith("|") and re.search(rf"\b{control.id}\b", line)]
    assert rows, f"docs/{doc_page(control)} has no table row naming {control.id}"
