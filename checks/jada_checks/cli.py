"""``jada-checks``: small offline commands beside the pytest-driven suite.

Subcommands live in a registry: a module defines ``add_arguments(parser)`` and
``run(args) -> int`` and registers them with :func:`command`; modules listed in
``COMMAND_MODULES`` are imported before parsing. Exit codes: 0 ok, 1 the input failed
the command's check, 2 usage (bad arguments, unreadable input).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jada_checks
from jada_checks.parsers.settings import MAX_BYTES, decode

OK, INVALID, USAGE = 0, 1, 2

# Modules that register further subcommands (e.g. a future "jada_checks.reporting.cli").
COMMAND_MODULES: tuple[str, ...] = ("jada_checks.reporting.cli",)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]
            ) -> Callable[[Callable[[argparse.Namespace], int]], Callable[..., int]]:
    """Register ``run`` as subcommand ``name``; a name registered twice is an error."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
        if name in COMMANDS:
            raise ValueError(f"subcommand {name!r} is registered twice")
        COMMANDS[name] = Command(name, help, add_arguments, run)
        return run

    return register


# -- validate-settings ------------------------------------------------------------------

def _settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="Claude Code settings file(s): settings.json, settings.local.json, "
                        "managed-settings.json")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 on warnings too (near-miss or misplaced keys, env values "
                        "that are not strings); notes about unknown keys never fail")


@command("validate-settings", "check Claude Code settings files against "
         "schemas/claude-settings.schema.json (no values are printed)", _settings_args)
def validate_settings(args: argparse.Namespace) -> int:
    """Errors on stdout (exit 1); warnings and notes on stderr (exit 0 unless --strict)."""
    worst = OK
    for name in args.files:
        path = Path(name)
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_BYTES + 1)  # never read more than the cap
        except OSError as exc:
            print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
            worst = USAGE
            continue
        parsed = decode(raw, name)
        for problem in parsed.errors:
            print(problem.render(name))
        for problem in parsed.warnings + parsed.notes:
            print(problem.render(name), file=sys.stderr)
        warned = len(parsed.warnings)
        if parsed.errors:
            worst = max(worst, INVALID)
        elif warned and args.strict:
            print(f"{name}: {warned} warning(s), invalid under --strict")
            worst = max(worst, INVALID)
        else:
            print(f"{name}: valid" + (f" ({warned} warning(s))" if warned else ""))
    return worst


# -- entry point ------------------------------------------------------------------------

def plain(text: str) -> str:
    """reST markup out of a docstring for --help: ``x``, :func:`x` and `x` become x."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return re.sub(r"`{1,2}([^`]+)`{1,2}", r"\1", text)


def build_parser() -> argparse.ArgumentParser:
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    parser = argparse.ArgumentParser(prog="jada-checks",
                                     description=plain(__doc__.split("\n")[0]))
    parser.add_argument("--version", action="version",
                        version=f"jada-checks {jada_checks.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in sorted(COMMANDS.values(), key=lambda c: c.name):
        p = sub.add_parser(cmd.name, help=plain(cmd.help), description=plain(cmd.help))
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits 2 on usage errors
    return int(args._run(args))


if __name__ == "__main__":
    # Run the imported module, not this __main__ copy: command modules register there.
    from jada_checks import cli

    sys.exit(cli.main())
