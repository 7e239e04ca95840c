"""A bad profile stops the run before anything connects: exit 4, file and field named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jada_checks.inputs import InputError
from jada_checks.profile import load_profile

GOOD = """\
version: 1
targets:
  - name: web
    ssh: {host: 127.0.0.1, port: 2222}
    lightsail: {instance: jada-agent, region: us-east-1}
"""


def run_pytest(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--jada-profile", str(profile), *args],
                          capture_output=True, text=True, timeout=60)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_defaults_are_filled_from_the_schema(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    t = profile.target("web")
    assert t.expect["unit"] == "jada-agent.service"
    assert t.expect["model"]["allow"] == ["claude-sonnet-4-6"]
    assert t.expect["thresholds"]["fd_usage_max_percent"] == 80
    assert t.ssh["user"] == "root" and t.ssh["host_key_policy"] == "strict"
    assert t.expected_public_ip == "127.0.0.1"


def test_target_expectations_override_the_top_level(tmp_path: Path) -> None:
    text = GOOD.replace("targets:", "expect: {nofile_min: 100, thresholds: {max_restarts: 9}}\n"
                        "targets:") + "    expect: {nofile_min: 200}\n"
    t = load_profile(write(tmp_path, text)).target("web")
    assert t.expect["nofile_min"] == 200
    assert t.expect["thresholds"]["max_restarts"] == 9
    assert t.expect["thresholds"]["fd_usage_max_percent"] == 80


def test_http_entries_get_the_schema_defaults_and_a_ca_bundle_beside_the_profile(
        tmp_path: Path) -> None:
    text = GOOD + "    expect: {http: [{port: 7070, ca_bundle: certs/ca.pem}, {port: 80, " \
        "scheme: http, budget_ms: 250}]}\n"
    t = load_profile(write(tmp_path, text)).target("web")
    https, plain = t.expect["http"]
    assert https == {"port": 7070, "scheme": "https", "path": "/healthz", "status": 200,
                     "budget_ms": 1000, "server_name": None,
                     "ca_bundle": str(tmp_path / "certs/ca.pem"), "x509_strict": False,
                     "connect_timeout": 3,
                     "read_timeout": 5, "expiry_warn_days": 21, "expiry_fail_days": 7,
                     "served_by": None}
    assert (plain["scheme"], plain["budget_ms"], plain["ca_bundle"]) == ("http", 250, None)
    assert load_profile(write(tmp_path, GOOD)).target("web").expect["http"] == []


@pytest.mark.parametrize(("text", "pointer", "expected"), [
    (GOOD + "    expect: {http: [{port: 7070, path: healthz}]}\n",
     "/targets/0/expect/http/0/path", "does not match"),
    (GOOD + "    expect: {http: [{scheme: https}]}\n", "/targets/0/expect/http/0",
     "missing required key 'port'"),
    (GOOD + "    colour: blue\n", "/targets/0 (line 3)", "unknown key 'colour'"),
    (GOOD.replace("port: 2222", "port: twenty"), "/targets/0/ssh/port (line 4)",
     "expected integer, got str"),
    (GOOD.replace("region: us-east-1", "zone: a"), "/targets/0/lightsail",
     "missing required key 'region'"),
    ("targets: []\n", "/", "missing required key 'version'"),
    ("version: 1\n", "/ (line 1)", "expected at least one of the keys 'targets' (targets "
     "listed by hand) or 'targets_from' (targets discovered from Lightsail): neither is "
     "present"),
    (GOOD + "    expect: {http: [{port: 443, served_by: nginx}]}\n",
     "/targets/0/expect/http/0/served_by", "expected a string matching"),
    # ICMP in Lightsail's terms: from_port the type, to_port the code, -1 every one
    (GOOD + "    expect: {lightsail: {open_ports: [{from_port: -1, protocol: tcp}]}}\n",
     "/targets/0/expect/lightsail/open_ports/0/from_port", "expected a number >= 0; a port "
     "is 0..65535; -1, every ICMP type or code, is for icmp and icmpv6 only"),
    (GOOD + "    expect: {lightsail: {open_ports: [{from_port: 8, protocol: icmp}]}}\n",
     "/targets/0/expect/lightsail/open_ports/0", "missing required key 'to_port'; for icmp "
     "and icmpv6, from_port is the ICMP type and to_port the ICMP code"),
    (GOOD + "    expect: {lightsail: {open_ports: [{from_port: 256, to_port: -1, "
     "protocol: icmpv6}]}}\n", "/targets/0/expect/lightsail/open_ports/0/from_port",
     "expected a number <= 255; an ICMP type is 0..255, or -1 for every type"),
])
def test_bad_profile_exits_4_naming_file_and_field(tmp_path: Path, text: str, pointer: str,
                                                   expected: str) -> None:
    path = write(tmp_path, text)
    res = run_pytest(path)
    assert res.returncode == 4, res.stdout + res.stderr
    assert str(path) in res.stderr
    assert pointer in res.stderr and expected in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_icmp_rules_as_lightsail_writes_them(tmp_path: Path) -> None:
    """Ping (type 8, every code), ICMPv6 echo (128/0), every ICMP type: what the
    Lightsail console and API write (InstancePortInfo fromPort/toPort) loads as written."""
    text = GOOD + ("    expect: {lightsail: {open_ports: [{from_port: 8, to_port: -1, protocol: "
                   "icmp}, {from_port: 128, to_port: 0, protocol: icmpv6}, {from_port: -1, "
                   "to_port: -1, protocol: icmp}]}}\n")
    ports = load_profile(write(tmp_path, text)).target("web").expect["lightsail"]["open_ports"]
    assert [(p["from_port"], p["to_port"], p["protocol"]) for p in ports] == [
        (8, -1, "icmp"), (128, 0, "icmpv6"), (-1, -1, "icmp")]


def test_not_yaml_at_all_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\ntargets: [\n  {name: x\n")
    with pytest.raises(InputError, match=r"profile .*profile.yaml: line \d+ column \d+"):
        load_profile(path)
    assert run_pytest(path).returncode == 4


def test_missing_profile_file(tmp_path: Path) -> None:
    res = run_pytest(tmp_path / "nope.yaml")
    assert res.returncode == 4 and "nope.yaml: no such file" in res.stderr


def test_duplicate_target_names(tmp_path: Path) -> None:
    text = GOOD + "  - name: web\n    ssh: {host: 127.0.0.2}\n"
    with pytest.raises(InputError, match="target name 'web' is used twice"):
        load_profile(write(tmp_path, text))


def test_profile_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "    colour: blue\n")
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={"JADA_PROFILE": str(path), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 4 and "unknown key 'colour'" in res.stderr


def test_list_controls_prints_the_catalogue() -> None:
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "--jada-list-controls"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert "JADA-UNIT-01" in res.stdout and "critical" in res.stdout
