"""``jada-checks merge-reports``: one report from the JSON reports of shards.

Registered in :mod:`jada_checks.cli`'s command registry. Exit codes: 0 the merged gate passed,
1 the merged gate failed (so the merge job can be the pipeline's gate), 2 bad arguments or
reports that cannot be merged.
"""

from __future__ import annotations

import argparse

from jada_checks.cli import command
from jada_checks.reporting.merge import merge_files


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT", help="merged JSON report to write")
    p.add_argument("inputs", nargs="+", metavar="IN", help="JSON reports of the shards")
    p.add_argument("--report-md", metavar="PATH", help="also write the Markdown report")
    p.add_argument("--report-html", metavar="PATH", help="also write the HTML report")


@command("merge-reports", "merge the JSON reports of shards (same profile and version, "
         "disjoint targets) into one; exits with its gate", _args)
def merge_reports(args: argparse.Namespace) -> int:
    return merge_files(args.out, args.inputs, md=args.report_md, html_path=args.report_html)
