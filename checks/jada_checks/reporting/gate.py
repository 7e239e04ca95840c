"""The gate: does this run fail the pipeline?

Only findings (fail or error) that are not waived and whose severity is at or above
``--jada-fail-on`` gate; lower ones are reported only. With ``--jada-fail-on-drift`` any drift
gates too. Results without a record (a crashed worker) always gate: nothing unknown passes.
"""

from __future__ import annotations

from typing import Any

from jada_checks.model import SEVERITIES, severity_rank

# The suite's exit codes; they are pytest's ExitCode values, given a gate meaning.
EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_INTERRUPTED = 2
EXIT_INTERNAL_ERROR = 3
EXIT_USAGE = 4
EXIT_NOTHING_SELECTED = 5

FINDINGS = ("fail", "error")
DRIFT_KINDS = ("newly_failing", "newly_erroring", "resolved", "changed")


def is_finding(rec: dict[str, Any]) -> bool:
    return rec["outcome"] in FINDINGS


def is_waived(rec: dict[str, Any]) -> bool:
    waiver = rec.get("waiver")
    return waiver is not None and bool(waiver) and waiver["status"] == "applied" \
        and is_finding(rec)


def drift_changes(drift: dict[str, Any] | None) -> int:
    return sum(len(drift[k]) for k in DRIFT_KINDS) if drift else 0


def decide(records: list[dict[str, Any]], fail_on: str, *, drift: dict[str, Any] | None = None,
           fail_on_drift: bool = False, unrecorded: int = 0,
           undiscovered: list[str] | None = None) -> dict[str, Any]:
    """The gate section of a report; ``exit_code`` is 0 (passed) or 1 (failed)."""
    if fail_on not in SEVERITIES:
        raise ValueError(f"unknown severity {fail_on!r}")
    threshold = severity_rank(fail_on)
    findings = [r for r in records if is_finding(r) and not is_waived(r)]
    blocking = [r for r in findings if severity_rank(r["severity"]) >= threshold]
    changes = drift_changes(drift)
    passed = not blocking and not unrecorded and not (fail_on_drift and changes) \
        and not undiscovered
    gate = {
        "fail_on": fail_on,
        "fail_on_drift": fail_on_drift,
        "passed": passed,
        "exit_code": EXIT_OK if passed else EXIT_GATE_FAILED,
        "blocking": [{k: r[k] for k in ("target", "control", "severity", "outcome")}
                     for r in blocking],
        "below_threshold": len(findings) - len(blocking),
        "waived": sum(1 for r in records if is_waived(r)),
        "drift_changes": changes,
        "unrecorded": unrecorded,
    }
    if undiscovered is not None:
        gate["undiscovered"] = list(undiscovered)
    return gate


NOT_DECIDED = {
    EXIT_INTERRUPTED: "run INTERRUPTED (exit 2): results are partial; gate not decided",
    EXIT_INTERNAL_ERROR: "INTERNAL ERROR (exit 3): see the traceback above; gate not decided",
    EXIT_USAGE: "USAGE ERROR (exit 4): see the error above; nothing was checked",
    EXIT_NOTHING_SELECTED: "NOTHING SELECTED (exit 5): no control matched the selection "
                           "(-k, -m, --jada-shard); nothing was checked",
}


def explain(gate: dict[str, Any], exit_status: int | None = None) -> str:
    """One line for humans: why the gate passed or failed, or, when the run ended with
    another exit status, that status: "gate PASSED" is only ever said of an exit 0."""
    if exit_status in NOT_DECIDED:
        return NOT_DECIDED[exit_status]
    if exit_status is not None and exit_status not in (EXIT_OK, EXIT_GATE_FAILED):
        return f"exit {exit_status}: gate not decided"
    why = []
    if gate["blocking"]:
        why.append(f"{len(gate['blocking'])} finding(s) at or above {gate['fail_on']}")
    if gate["fail_on_drift"] and gate["drift_changes"]:
        why.append(f"{gate['drift_changes']} drift change(s) with --jada-fail-on-drift")
    if gate["unrecorded"]:
        why.append(f"{gate['unrecorded']} result(s) without a record (crashed worker?)")
    if gate.get("undiscovered"):
        why.append(f"Lightsail discovery failed ({'; '.join(gate['undiscovered'])[:300]})")
    extra = []
    if gate["below_threshold"]:
        extra.append(f"{gate['below_threshold']} below {gate['fail_on']} reported only")
    if gate["waived"]:
        extra.append(f"{gate['waived']} waived")
    tail = f" ({'; '.join(extra)})" if extra else ""
    if gate["passed"]:
        return f"gate PASSED (fail-on {gate['fail_on']}){tail}"
    return f"gate FAILED: {'; '.join(why)}{tail}"
