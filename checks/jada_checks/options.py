"""The suite's settings: one table for the command line and the ini file, and where each came from.

Every option is ``--jada-NAME`` on the command line and ``jada_NAME`` in the ini file
(``pytest.ini``, ``[tool.pytest.ini_options]``, ``tox.ini``, ``setup.cfg``), so none can
collide with another plugin's. Precedence: the command line, then (for the profile only)
``$JADA_PROFILE``, then the ini file, then the default. Relative paths from the ini file
are relative to the ini file's directory, like pytest's own ``paths`` values.

Both plugins import this module at every pytest start, in every project: it must stay
free of heavy imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from jada_checks.model import SEVERITIES
from jada_checks.setting import Setting, Source
from jada_checks.stash import SETTINGS_KEY

ENV_PROFILE = "JADA_PROFILE"

Kind = Literal["str", "path", "flag"]


@dataclass(frozen=True)
class Spec:
    """One setting: ``--jada-<name>`` on the command line, ``jada_<name>`` in the ini file."""

    name: str
    help: str
    metavar: str | None = None
    kind: Kind = "str"
    choices: tuple[str, ...] = ()
    default: Any = None
    ini: bool = True

    @property
    def flag(self) -> str:
        return f"--jada-{self.name}"

    @property
    def dest(self) -> str:
        """The attribute on ``config.option`` and the ini key."""
        return "jada_" + self.name.replace("-", "_")


CORE = (
    Spec("profile", "deployment profile (YAML); default: $JADA_PROFILE, then ini jada_profile",
         "PATH", "path"),
    # Command line only: in an ini file it would turn every pytest run of the project into
    # a catalogue print that exits 0 without running a test.
    Spec("list-controls", "print the control catalogue and exit", kind="flag", ini=False),
    Spec("stats-json", "write instrumentation: SSH connections and remote commands per "
         "target, peak memory per worker", "PATH", "path"),
    Spec("shard", "check only shard I of N of the targets (sorted by name, dealt round-robin); "
         "merge the shards' JSON reports with jada-checks merge-reports", "I/N"),
)

REPORTING = (
    Spec("report-json", "write the JSON report (schemas/report.schema.json)", "PATH", "path"),
    Spec("report-md", "write the Markdown report (e.g. $GITHUB_STEP_SUMMARY)", "PATH", "path"),
    Spec("report-html", "write the self-contained HTML report", "PATH", "path"),
    Spec("report-sarif", "write SARIF 2.1.0 for code scanning (one result per failing or "
         "erroring control × target)", "PATH", "path"),
    Spec("report-codequality", "write a GitLab code quality report "
         "(artifacts:reports:codequality)", "PATH", "path"),
    Spec("report-metrics", "write the run's metrics as Prometheus text (node_exporter "
         "textfile collector, Pushgateway)", "PATH", "path"),
    Spec("fail-on", "exit 1 only for non-waived fail/error at or above this severity "
         "(default: low)", "SEVERITY", choices=SEVERITIES, default="low"),
    Spec("fail-on-drift", "any drift fails the gate too; needs --jada-baseline", kind="flag",
         default=False),
    Spec("waivers", "waivers file (YAML, schemas/waivers.schema.json)", "FILE", "path"),
    Spec("baseline", "earlier JSON report of the same profile to report drift against",
         "PATH", "path"),
    Spec("retry-timeout", "re-check failing controls until they pass or this time is up "
         "(e.g. 90s, 2m, 1h30m, '2 mins')", "DURATION"),
)

SPECS = {s.dest: s for s in (*CORE, *REPORTING)}


def add_options(parser: pytest.Parser, specs: Iterable[Spec]) -> None:
    """Register each spec's command-line option and (where it has one) its ini key."""
    group = parser.getgroup("jada", "jada-checks")
    for s in specs:
        kw: dict[str, Any] = {"dest": s.dest, "default": None, "help": s.help}
        if s.kind == "flag":
            kw["action"] = "store_true"
        else:
            kw["metavar"] = s.metavar
        if s.choices:
            # argparse applies type before checking choices: HIGH and High mean high.
            kw["choices"] = s.choices
            kw["type"] = str.lower
            kw["help"] = f"{s.help}; one of: {', '.join(s.choices)} (any case)"
        group.addoption(s.flag, **kw)
        if s.ini:
            where = "; a relative path is relative to the ini file" if s.kind == "path" else ""
            ini_type: Literal["bool", "string"] = "bool" if s.kind == "flag" else "string"
            parser.addini(s.dest, f"same as {s.flag}{where}", type=ini_type, default=None)


def _ini(config: pytest.Config, s: Spec) -> tuple[Any, str] | None:
    """The ini file's value (paths made absolute against the ini file) and its origin."""
    where = f"{s.dest} in {config.inipath}" if config.inipath else f"ini value {s.dest}"
    try:
        raw = config.getini(s.dest)
    except (ValueError, TypeError, pytest.UsageError) as exc:  # e.g. a bool that is not one
        raise pytest.UsageError(f"{where}: {exc}") from None
    if raw is None or raw == "" or raw == []:
        return None
    if s.kind == "flag":
        return (bool(raw), where) if raw else None
    value = str(raw).strip()
    if s.choices:
        value = value.lower()
    if s.choices and value not in s.choices:
        raise pytest.UsageError(f"{where}: {value!r} is not one of "
                                f"{', '.join(s.choices)}")
    if s.kind == "path":
        base = config.inipath.parent if config.inipath else config.invocation_params.dir
        value = str(base / Path(os.path.expanduser(value)))
    return value, where


def _resolve(config: pytest.Config, s: Spec, given_options: Any = None) -> Setting:
    places: list[tuple[Source, Any, str]] = []
    given = getattr(config.option if given_options is None else given_options, s.dest, None)
    if given not in (None, False, ""):
        places.append(("option", given, s.flag))
    if s.dest == "jada_profile" and os.environ.get(ENV_PROFILE):
        places.append(("environment", os.environ[ENV_PROFILE], f"${ENV_PROFILE}"))
    if s.ini:
        found = _ini(config, s)
        if found is not None:
            places.append(("ini", *found))
    if not places:
        return Setting(s.default, "default", "default")
    (source, value, origin), rest = places[0], places[1:]
    return Setting(value, source, origin, tuple(o for _, _, o in rest))


def resolve(config: pytest.Config, specs: Iterable[Spec]) -> None:
    """Resolve ``specs`` once per config and put the winners on ``config.option``, so the
    rest of the suite reads plain ``config.getoption`` values."""
    done = config.stash.setdefault(SETTINGS_KEY, {})
    for s in specs:
        if s.dest not in done:
            done[s.dest] = _resolve(config, s)
            setattr(config.option, s.dest, done[s.dest].value)


def setting(config: pytest.Config, dest: str) -> Setting:
    """Where ``dest``'s value came from; resolves it first if needed."""
    resolve(config, [SPECS[dest]])
    return config.stash[SETTINGS_KEY][dest]


def early_setting(config: pytest.Config, dest: str) -> Setting:
    """``dest`` as :func:`setting` will resolve it, but read before pytest has parsed the
    command line for real (from its first pass, ``known_args_namespace``): for the logins
    that start before conftest files load. Not cached; may raise ``pytest.UsageError``."""
    return _resolve(config, SPECS[dest], config.known_args_namespace)
