"""Installed in an unrelated project, the plugins cost that project no heavy imports.

pytest loads every installed plugin at every start. Without a profile ours must import
none of jsonschema, yaml, boto3, botocore or testinfra (they cost ~150 ms together). The
probe runs pytest in an empty directory with plugin autoloading off and exactly our two
entry points loaded, then reports which of those modules ``sys.modules`` holds. It asserts
imports, not times; a profile run is the control that shows the probe sees them.

Also here: when a profile run's logins start (before conftest files load, unless a
selection may need no facts), and that a usage error after that early start does not wait
for them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

HEAVY = ("jsonschema", "yaml", "boto3", "botocore", "testinfra", "prometheus_client")
PROBE = """\
import json, sys
import pytest
rc = pytest.main(sys.argv[1:])
print("PROBE " + json.dumps({"rc": int(rc), "modules": sorted(sys.modules)}))
"""


def our_plugins() -> list[str]:
    """The modules of our pytest11 entry points, as installed (not as we think they are)."""
    mods = sorted(ep.value for ep in entry_points(group="pytest11")
                  if ep.dist is not None and ep.dist.name == "jada-checks")
    assert mods == ["jada_checks.plugin", "jada_checks.reporting.plugin"], mods
    return mods


def probe(cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    plugins = [a for m in our_plugins() for a in ("-p", m)]
    base = {k: v for k, v in os.environ.items() if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS")}
    res = subprocess.run([sys.executable, "-c", PROBE, "-p", "no:cacheprovider", *plugins,
                          *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                         env={**base, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **(env or {})})
    line = next((x for x in res.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line is not None, res.stdout + res.stderr
    out = json.loads(line.removeprefix("PROBE "))
    out["heavy"] = sorted({m.partition(".")[0] for m in out["modules"]} & set(HEAVY))
    return out


@pytest.mark.parametrize("args", [("--co", "-q"), ("--help",), ("-q",)],
                         ids=["collect-only", "help", "run"])
def test_no_profile_imports_nothing_heavy(tmp_path: Path, args: tuple[str, ...]) -> None:
    if args == ("-q",):
        (tmp_path / "test_own.py").write_text("def test_own():\n    assert True\n")
    out = probe(tmp_path, *args)
    assert out["rc"] in (0, 5), out
    assert out["heavy"] == [], f"imported without a profile: {out['heavy']}"


def test_probe_sees_the_imports_of_a_profile_run(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1}\n")
    out = probe(tmp_path, "--co", "-q", env={"JADA_PROFILE": str(tmp_path / "p.yaml")})
    assert out["rc"] == 0, out
    assert {"jsonschema", "yaml"} <= set(out["heavy"]), out
    # The controls talk OpenSSH directly; Testinfra is imported only when a user test's
    # Host is made (FactStore.testinfra_host), never by collection.
    assert "testinfra" not in out["heavy"], out
    # No Markdown or HTML report asked for: their renderers are not imported.
    assert {"jada_checks.reporting.run", "jada_checks.reporting.document"} <= \
        set(out["modules"]), out
    assert not {"jada_checks.reporting.html", "jada_checks.reporting.markdown",
                "jada_checks.reporting.sarif", "jada_checks.reporting.metrics"} & \
        set(out["modules"]), out
    assert "prometheus_client" not in out["heavy"], out  # only with --jada-report-metrics


@pytest.mark.parametrize("metrics", [False, True], ids=["no-metrics", "metrics"])
def test_prometheus_client_only_when_metrics_are_asked_for(tmp_path: Path,
                                                          metrics: bool) -> None:
    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1, connect_timeout: 2}\n")
    prom = tmp_path / "jada.prom"
    args = ("--jada-report-metrics", str(prom)) if metrics else ()
    out = probe(tmp_path, "-q", "-k", "JADA-UNIT-01", "--jada-profile", str(tmp_path / "p.yaml"),
                *args)
    assert out["rc"] == 1, out  # port 1 is closed: the control errors, the gate fails
    assert ("prometheus_client" in out["heavy"]) is metrics, out
    assert prom.is_file() is metrics


def test_a_selection_that_needs_no_host_facts_opens_no_connection(tmp_path: Path) -> None:
    """-m area_ls selects only Lightsail controls: no SSH login is even started."""
    (tmp_path / "p.yaml").write_text(
        "version: 1\naws: {endpoint_url: 'http://127.0.0.1:9', connect_timeout: 1, "
        "max_attempts: 1}\ntargets:\n  - name: web\n    ssh: {host: 127.0.0.1, port: 1}\n"
        "    lightsail: {instance: web, region: us-east-1}\n")
    stats = tmp_path / "stats.json"
    out = probe(tmp_path, "-q", "-m", "area_ls", "--jada-stats-json", str(stats),
                env={"JADA_PROFILE": str(tmp_path / "p.yaml"), "AWS_ACCESS_KEY_ID": "x",
                     "AWS_SECRET_ACCESS_KEY": "y", "AWS_EC2_METADATA_DISABLED": "true"})
    assert out["rc"] == 1, out  # the endpoint is closed: LS controls error
    assert json.loads(stats.read_text())["targets"] == {}, stats.read_text()


COUNT_REPRS = """\
import json, sys
import pytest
from _pytest._code.code import ExceptionInfo
calls = {"n": 0}
_getrepr = ExceptionInfo.getrepr
def getrepr(self, *a, **k):
    if k.get("style") != "value":  # "value": the message alone, no frame's source read
        calls["n"] += 1
    return _getrepr(self, *a, **k)
ExceptionInfo.getrepr = getrepr
rc = pytest.main(sys.argv[1:])
print("PROBE " + json.dumps({"rc": int(rc), "getrepr": calls["n"]}))
"""


def test_an_unreachable_host_renders_no_tracebacks(tmp_path: Path) -> None:
    """Its controls error in setup; pytest would render each one's traceback (parsing the
    source of every frame, ~0.25 s of CPU per item) only to have the report replace it.
    Counted: renderings other than the message alone (style "value")."""
    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1}\n")
    base = {k: v for k, v in os.environ.items() if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS")}
    res = subprocess.run([sys.executable, "-c", COUNT_REPRS, "-p", "no:cacheprovider", "-q",
                          "--jada-profile", str(tmp_path / "p.yaml")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, env=base)
    line = next(x for x in res.stdout.splitlines() if x.startswith("PROBE "))
    out = json.loads(line.removeprefix("PROBE "))
    assert out["rc"] == 1 and "ERROR: unreachable: root@127.0.0.1:1" in res.stdout, res.stdout
    assert out["getrepr"] == 0, out


SEES_SSH = """\
import json, os
from pathlib import Path

def ssh_children():
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, rest = text.split("(", 1)[1].rsplit(")", 1)
        if comm == "ssh" and int(rest.split()[1]) == os.getpid():
            found.append(comm)
    return found

Path("seen.json").write_text(json.dumps(ssh_children()))
"""


@pytest.mark.parametrize("selection", [(), ("-k", "UNIT")], ids=["all", "k-selection"])
def test_logins_start_before_conftest_files_load(tmp_path: Path,
                                                 selection: tuple[str, ...]) -> None:
    """A project's conftest.py (this repository's imports hypothesis) loads before
    pytest_configure; the login must not wait for it. The target is a loopback port that
    takes the TCP connection and never sends an SSH banner, so ssh is still waiting when
    the conftest looks for this process's ssh child. A selection may need no host facts,
    so then no login has started yet."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        (tmp_path / "p.yaml").write_text(
            "version: 1\ntargets:\n  - name: web\n"
            f"    ssh: {{host: 127.0.0.1, port: {port}, connect_timeout: 2}}\n")
        (tmp_path / "conftest.py").write_text(SEES_SSH)
        base = {k: v for k, v in os.environ.items()
                if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS")}
        res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                              "--jada-profile", "p.yaml", *selection], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60, env=base)
    assert f"unreachable: root@127.0.0.1:{port}: connection timed out" in res.stdout, \
        res.stdout + res.stderr
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == ([] if selection else ["ssh"]), seen


def test_a_usage_error_after_the_early_start_does_not_wait_for_the_login(
        tmp_path: Path) -> None:
    """The logins start before pytest has parsed the whole command line; when it then
    stops on a usage error, the cleanup stops them: the error comes at once, not after
    the target's 20 s ConnectTimeout (the port takes the connection, never answers)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        (tmp_path / "p.yaml").write_text(
            "version: 1\ntargets:\n  - name: web\n"
            f"    ssh: {{host: 127.0.0.1, port: {silent.getsockname()[1]}, "
            "connect_timeout: 20}\n")
        (tmp_path / "conftest.py").write_text(SEES_SSH)
        base = {k: v for k, v in os.environ.items()
                if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS")}
        start = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                              "--jada-profile", "p.yaml", "--no-such-option"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60, env=base)
        elapsed = time.monotonic() - start
    assert res.returncode == 4 and "--no-such-option" in res.stderr, res.stdout + res.stderr
    assert json.loads((tmp_path / "seen.json").read_text()) == ["ssh"]  # it had started
    assert elapsed < 15, elapsed
