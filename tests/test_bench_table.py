"""make bench's table: every mode's row keeps its numbers under their column headings."""

from __future__ import annotations

from jada_checks.dev import bench


def test_every_mode_lines_up_under_the_headings() -> None:
    modes = ["alone", "n2", *bench.BASELINES, *bench.OWN_MODES, *bench.OWN_SMALL_MODES]
    row = {m: {"wall_s": 1.25, "runner_cpu_s": 0.5, "sshd_logins_per_host": 1} for m in modes}
    lines = bench.table({"physical_limit_s": 0.5, "sizes": {"8": row}}).splitlines()
    wall_end = lines[0].index("wall s") + len("wall s")
    rows = [ln for ln in lines[2:] if ln.lstrip().startswith(("1 ", "8 "))]
    assert len(rows) == len(modes) + 1
    for ln in rows:
        assert ln[wall_end - 4:wall_end] in ("1.25", "0.50"), ln
