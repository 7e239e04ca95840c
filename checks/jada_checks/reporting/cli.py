"""``jada-checks merge-reports``: one report from the JSON reports of shards.

Registered in :mod:`jada_checks.cli`'s command registry. Exit codes: 0 the merged gate passed,
1 the merged gate failed (so the merge job can be the pipeline's gate), 2 bad arguments or
reports that cannot be merged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jada_checks.cli import command
from jada_checks.reporting.merge import merge_files


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT", help="merged JSON report to write")
    p.add_argument("inputs", nargs="+", metavar="IN", help="JSON reports of the shards")
    p.add_argument("--report-md", metavar="PATH", help="also write the Markdown report")
    p.add_argument("--report-html", metavar="PATH", help="also write the HTML report")
    p.add_argument("--report-sarif", metavar="PATH", help="also write SARIF 2.1.0")
    p.add_argument("--report-codequality", metavar="PATH",
                   help="also write a GitLab code quality report")
    p.add_argument("--report-metrics", metavar="PATH",
                   help="also write the metrics (Prometheus text)")


@command("merge-reports", "merge the JSON reports of shards (same profile and version, "
         "disjoint targets) into one; exits with its gate", _args)
def merge_reports(args: argparse.Namespace) -> int:
    return merge_files(args.out, args.inputs, md=args.report_md, html_path=args.report_html,
                       sarif=args.report_sarif, codequality=args.report_codequality,
                       metrics=args.report_metrics)


def _annotation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", metavar="REPORT", help="JSON report (--jada-report-json)")
    p.add_argument("--root", metavar="DIR", help="repository root the profile path is made "
                   "relative to (default: $GITHUB_WORKSPACE, else the current directory)")


@command("annotations", "print one GitHub Actions ::error (a finding that fails the gate) "
         "or ::warning (below fail-on, or waived) per failing or erroring control × target, "
         "at the target's line in the profile", _annotation_args)
def annotations_command(args: argparse.Namespace) -> int:
    from jada_checks.inputs import InputError
    from jada_checks.reporting.annotations import lines
    from jada_checks.reporting.document import read

    try:
        doc = read(args.report, "report")
    except InputError as exc:
        print(f"annotations: {exc}", file=sys.stderr)
        return 2
    for line in lines(doc, Path(args.root).resolve() if args.root else None):
        print(line)
    return 0
