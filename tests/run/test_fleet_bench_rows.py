"""The fleet bench's own rules, without a sandbox: whose replay host it boots, and that
its table shows, for ``alone`` and ``-n 2`` alike, the summed and the largest process's
memory and the run's end (both rows write every report, so they compare)."""

from __future__ import annotations

import pytest

from jada_checks.dev import fleet_bench


def test_the_replay_sandbox_is_named_after_jada_sandbox_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JADA_SANDBOX_NAME", "fleetn2")
    assert fleet_bench.sandbox_name() == "fleetn2-fleet"
    monkeypatch.setenv("JADA_SANDBOX_NAME", "x" * 31)
    assert fleet_bench.sandbox_name() == "x" * 31  # within the sandbox's 31 characters
    monkeypatch.delenv("JADA_SANDBOX_NAME")
    assert fleet_bench.sandbox_name() == "bench-fleet"


def row(wall: float, end: float) -> dict[str, object]:
    return {"wall_s": wall, "runner_cpu_per_target_ms": 35.0, "peak_rss_mib": 366.0,
            "peak_rss_mib_per_worker": 294, "sessionfinish_s": end, "peak_open_fds": 201,
            "peak_ssh_processes": 64, "unreachable": 0, "ssh_retries": 0}


def test_the_table_shows_both_rows_with_their_memory_and_end() -> None:
    text = fleet_bench.table({
        "size": 1000, "alone": row(40.4, 7.8), "n2": row(41.0, 8.1), "n2_over_alone": 1.01,
        "reports_s": {"json": 0.5}, "sharded": {"shards": 10, "per_shard_max": {},
                                                "merge_reports_s": 1.0, "merged_targets": 1000}})
    alone, n2 = (line for line in text.splitlines() if line.lstrip().startswith(("alone", "n2")))
    assert "peak RSS  366.0 MiB (largest process 294 MiB)  end 7.8 s" in alone, alone
    assert "end 8.1 s" in n2, n2
    assert "-n 2 / alone: 1.01x" in text
