"""The HTML report in a real browser (headless Chromium, Debian package ``chromium``).

A demo-like report (the real catalogue: a fully passing target that sorts first by name,
and ``drifted`` failing its documented faults, with a somaxconn drift) is rendered, a small
measuring script is appended, and ``chromium --dump-dom`` at 1366x768 returns the page with
the measurements written into the DOM: the first failing row must be within the first
screen and the page must not scroll sideways. ``--screenshot`` of the unmodified page makes
the README's picture (``JADA_UPDATE_SCREENSHOT=1`` writes docs/html-report.png).
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jada_checks.reporting import html
from tests.support.paths import REPO
from tests.support.reporting_support import demo_like

CHROMIUM = shutil.which("chromium")
WIDTH, HEIGHT = 1366, 768
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium "
                                "(make install adds it)")

MEASURE = """<script>
(() => {
  const d = document.documentElement;
  const row = [...document.querySelectorAll('tr[data-state=fail]')].find(r => !r.hidden);
  const box = row ? row.getBoundingClientRect() : null;
  document.body.dataset.measure = JSON.stringify({
    scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, innerHeight: innerHeight,
    firstFailTop: box ? box.top : null, firstFailBottom: box ? box.bottom : null,
    firstFailId: row ? row.querySelector('code').textContent : null,
    visiblePass: [...document.querySelectorAll('tr[data-state=pass]')].filter(r => !r.hidden)
      .length,
  });
})();
</script>"""


def chromium(*args: str) -> str:
    res = subprocess.run([CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                          f"--window-size={WIDTH},{HEIGHT}", *args],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def test_first_failure_on_first_screen_without_sideways_scroll(tmp_path: Path) -> None:
    page = html.render(demo_like(tmp_path))
    measured = tmp_path / "measured.html"
    measured.write_text(page.replace("</body>", MEASURE + "</body>"))
    dom = chromium("--dump-dom", measured.as_uri())
    found = re.search(r'data-measure="([^"]*)"', dom)
    assert found, dom[:2000]
    m = json.loads(htmllib.unescape(found.group(1)))
    assert m["scrollWidth"] <= m["clientWidth"], m  # no horizontal scrollbar at 1366 px
    assert m["firstFailId"] is not None and m["visiblePass"] == 0, m
    assert 0 <= m["firstFailTop"] and m["firstFailBottom"] <= m["innerHeight"], m


def test_screenshot_of_the_first_screen(tmp_path: Path) -> None:
    """The README's picture; also proves the page renders without its own script failing."""
    page = tmp_path / "report.html"
    page.write_text(html.render(demo_like(tmp_path)))
    shot = tmp_path / "report.png"
    chromium("--hide-scrollbars", f"--screenshot={shot}", page.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    if os.environ.get("JADA_UPDATE_SCREENSHOT") == "1":
        shutil.copy(shot, REPO / "docs" / "html-report.png")
