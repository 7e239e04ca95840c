"""Where a finding points a reader: the target's line in the profile, and which findings
CI surfaces (SARIF, annotations, GitLab code quality) and in what order.

A control × target finding has no line of code; the profile line that names the target
(``- name: web-1``, or for a discovered target its override or the ``targets_from``
block) is what a reader opens to see what was expected of it. CI systems want paths
relative to the repository root: ``$GITHUB_WORKSPACE`` on GitHub, ``$CI_PROJECT_DIR`` on
GitLab, else the current directory; a profile outside it keeps its absolute path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from jada_checks.model import severity_rank

FINDINGS = ("fail", "error")


def source_root(doc: dict[str, Any] | None = None) -> Path:
    """The repository root: the first of ``$GITHUB_WORKSPACE``, ``$CI_PROJECT_DIR`` and the
    current directory that holds the profile (a CI variable can name a directory the job
    does not run in, as gitlab-ci-local's does), else the first of them."""
    roots = [Path(os.environ[v]).resolve() for v in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")
             if os.environ.get(v)] + [Path.cwd().resolve()]
    if doc is not None:
        path = Path(doc["run"]["profile"]["path"]).resolve()
        for root in roots:
            if path.is_relative_to(root):
                return root
    return roots[0]


def profile_path(doc: dict[str, Any], root: Path) -> tuple[str, bool]:
    """The profile's path relative to ``root`` (posix), and whether it is relative."""
    path = Path(doc["run"]["profile"]["path"])
    try:
        return path.resolve().relative_to(root).as_posix(), True
    except ValueError:
        return path.as_posix(), False


def target_line(doc: dict[str, Any], target: str) -> int:
    """1-based; line 1 for reports without ``target_lines`` (older versions)."""
    return int(doc["run"]["profile"].get("target_lines", {}).get(target, 1))


def waived(rec: dict[str, Any]) -> bool:
    return bool(rec.get("waiver") and rec["waiver"]["status"] == "applied")


def blocking(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(b["control"], b["target"]) for b in doc["gate"]["blocking"]}


def findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every fail/error record: the ones that gate first, then by severity, target, control
    (a CI view that shows only the first few shows the ones that matter)."""
    gates = blocking(doc)
    recs = [r for r in doc["records"] if r["outcome"] in FINDINGS]
    return sorted(recs, key=lambda r: ((r["control"], r["target"]) not in gates,
                                       -severity_rank(r["severity"]), r["target"],
                                       r["control"]))


def fingerprint(rec: dict[str, Any]) -> str:
    """Stable across runs for the same control on the same target (not the message, which
    carries observed values that change)."""
    return hashlib.sha256(f"{rec['control']}\0{rec['target']}".encode()).hexdigest()[:32]
