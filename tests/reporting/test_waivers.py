"""Waivers: loading with clear errors, matching, expiry and staleness."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jada_checks.inputs import InputError
from jada_checks.reporting.waivers import NO_MATCH, Waiver, apply, load_waivers, select
from tests.support.reporting_support import rec

TODAY = dt.date(2025, 6, 15)


def w(control: str = "JADA-UNIT-01", target: str = "web-1",
      expires: dt.date = dt.date(2025, 12, 31)) -> Waiver:
    return Waiver(control, target, "accepted until the rebuild", expires)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return path


def test_load_valid_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
version: 1
waivers:
  - control: JADA-NET-01
    target: "*"
    justification: kernel default accepted on staging
    expires: 2025-12-31
    ticket: OPS-1
""")
    [one] = load_waivers(path)
    assert one == Waiver("JADA-NET-01", "*", "kernel default accepted on staging",
                         dt.date(2025, 12, 31), "OPS-1")


@pytest.mark.parametrize(("body", "pointer", "words"), [
    ("  - control: JADA-NET-01\n    target: web-1\n    expires: 2025-12-31\n",
     "/waivers/0", "missing required key 'justification'"),
    ("  - control: JADA-NET-01\n    target: web-1\n    justification: x\n",
     "/waivers/0", "missing required key 'expires'"),
    ("  - control: JADA-NET-1\n    target: web-1\n    justification: x\n    expires: 2025-12-31\n",
     "/waivers/0/control", "expected a string matching"),
    ("  - control: JADA-NET-01\n    target: web-1\n    justification: x\n    expires: 31.12.25\n",
     "/waivers/0/expires", "expected a string matching"),
    ("  - control: JADA-NET-01\n    target: web-1\n    justification: '  '\n"
     "    expires: 2025-12-31\n", "/waivers/0/justification", "matching"),
    ("  - control: JADA-NET-01\n    target: web-1\n    justification: x\n"
     "    expires: 2025-12-31\n    owner: me\n", "/waivers/0", "unknown key 'owner'"),
])
def test_invalid_file_names_file_and_pointer(tmp_path: Path, body: str, pointer: str,
                                             words: str) -> None:
    path = write(tmp_path, "version: 1\nwaivers:\n" + body)
    with pytest.raises(InputError) as exc:
        load_waivers(path)
    msg = str(exc.value)
    assert str(path) in msg and f"{pointer} (line" in msg and words in msg


def test_impossible_date_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nwaivers:\n  - control: JADA-NET-01\n    target: a\n"
                           "    justification: x\n    expires: '2025-02-30'\n")
    with pytest.raises(InputError, match=r"/waivers/0/expires \(line 6\): '2025-02-30' is "
                                         "not a calendar"):
        load_waivers(path)
    path.write_text(path.read_text().replace("'2025-02-30'", "2025-02-30"))
    # unquoted, PyYAML itself fails it while constructing; still pointer and line
    with pytest.raises(InputError, match=r"/waivers/0/expires \(line 6\): '2025-02-30': day "
                                         r"is out of range for month \(a calendar date"):
        load_waivers(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_waivers(tmp_path / "nope.yaml")


def test_select_only_findings_and_matching_targets() -> None:
    assert select(rec(outcome="pass"), [w()], TODAY) is None
    assert select(rec(target="web-2"), [w()], TODAY) is None
    assert select(rec(target="web-2"), [w(target="*")], TODAY)["status"] == "applied"
    got = select(rec(outcome="error"), [w()], TODAY)
    assert got == {"control": "JADA-UNIT-01", "target": "web-1",
                   "justification": "accepted until the rebuild", "expires": "2025-12-31",
                   "status": "applied"}


def test_expiry_day_is_inclusive() -> None:
    assert select(rec(), [w(expires=TODAY)], TODAY)["status"] == "applied"
    assert select(rec(), [w(expires=TODAY - dt.timedelta(days=1))], TODAY)["status"] == "expired"


def test_active_waiver_wins_over_expired_and_exact_over_star() -> None:
    old = w(expires=dt.date(2020, 1, 1))
    star = Waiver("JADA-UNIT-01", "*", "fleet-wide", dt.date(2026, 1, 1))
    assert select(rec(), [old, w()], TODAY)["expires"] == "2025-12-31"
    assert select(rec(), [star, w()], TODAY)["target"] == "web-1"


def test_apply_reports_expired_and_stale() -> None:
    records = [rec(), rec(target="web-2", outcome="pass"),
               rec(control="JADA-LS-05", target="web-1")]
    waivers = [w(), w(target="web-2"), w(control="JADA-CFG-09"),
               w(control="JADA-LS-05", expires=dt.date(2025, 1, 1))]
    section = apply(records, waivers, TODAY, "w.yaml")
    assert [r["waiver"] and r["waiver"]["status"] for r in records] == ["applied", None,
                                                                        "expired"]
    assert section["applied"] == 1
    assert [(x["control"], x["findings"]) for x in section["expired"]] == [("JADA-LS-05", 1)]
    stale = {(x["control"], x["target"]): x["reason"] for x in section["stale"]}
    assert stale == {("JADA-UNIT-01", "web-2"): "the matched controls do not fail or error",
                     ("JADA-CFG-09", "web-1"): NO_MATCH}
