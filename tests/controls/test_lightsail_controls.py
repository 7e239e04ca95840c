"""JADA-LS controls end to end: the real suite, real boto3, the local endpoint on 127.0.0.1.

Each test writes a profile, runs ``python -m pytest --jada-profile ...`` in a subprocess and
reads the JSON report, so what is asserted is what a user would see.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from jada_checks.aws.discovery import DISCOVERY_OPERATIONS
from jada_checks.aws.lightsail import OPERATIONS
from jada_checks.sandbox.lightsail_endpoint import LightsailServer, render, start_endpoint
from tests.support.paths import REPO

SAMPLE = REPO / "sandbox" / "hosts" / "compliant" / "lightsail.json"
REGION = "us-east-1"
ADDRESS = "198.51.100.10"
KEY_ID = "AKIAJADATESTKEY12345"
SECRET = "jadaTESTsecret/doNotLeak+0123456789abcdef"
LS = [f"JADA-LS-0{i}" for i in range(1, 10)]
# The suite's own plugins only: hypothesis alone costs a second of startup per run.
QUIET_PLUGINS = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
# A small budget: every error case must come back quickly.
FAST = {"connect_timeout": 1, "read_timeout": 1, "max_attempts": 2}


def record(mutate: Callable[[dict[str, Any]], None] | None = None,
           name: str = "web") -> dict[str, Any]:
    rec = render(json.loads(SAMPLE.read_text()), {"name": name, "address": ADDRESS})
    # compliant's firewall without its service port (7070, JADA-HTTP's): the cases here
    # are about the SSH rule, and the profiles below expect only 22/tcp open
    ports = rec["instance"]["networking"]["ports"]
    ports[:] = [p for p in ports if p["fromPort"] == 22]
    if mutate:
        mutate(rec)
    return rec


def aws_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean AWS environment: dummy keys, no shared files, no IMDS, no proxies."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy")
           and k != "JADA_PROFILE"}
    env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
               AWS_EC2_METADATA_DISABLED="true", NO_PROXY="127.0.0.1,localhost")
    env.update(extra)
    return env


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str], report: dict[str, Any],
                 elapsed: float) -> None:
        self.proc, self.elapsed = proc, elapsed
        self.records = {(r["target"], r["control"]): r for r in report.get("records", [])}

    def __call__(self, target: str, control: str) -> dict[str, Any]:
        return self.records[(target, control)]


def run_suite(tmp_path: Path, profile: dict[str, Any], env: dict[str, str] | None = None,
              timeout: float = 60, args: tuple[str, ...] = ()) -> Run:
    profile_file = tmp_path / "profile.yaml"
    profile_file.write_text(yaml.safe_dump(profile))
    report = tmp_path / "report.json"
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *QUIET_PLUGINS, "--jada-profile", str(profile_file),
         "--jada-report-json", str(report), "-q", *args],
        cwd=tmp_path, env=env or aws_env(tmp_path), capture_output=True, text=True,
        timeout=timeout)
    elapsed = time.monotonic() - start
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    assert SECRET not in output and KEY_ID not in output
    assert report.exists(), output[-3000:]
    text = report.read_text()
    assert SECRET not in text and KEY_ID not in text
    return Run(proc, json.loads(text), elapsed)


def profile_for(url: str | None, targets: dict[str, dict[str, Any]], **aws: Any) -> dict:
    return {"version": 1, "aws": {"endpoint_url": url, **FAST, **aws},
            "targets": [{"name": name, **t} for name, t in targets.items()]}


def ls_target(instance: str, **extra: Any) -> dict[str, Any]:
    return {"lightsail": {"instance": instance, "region": REGION, "public_ip": ADDRESS},
            **extra}


@pytest.fixture
def endpoint() -> Iterator[LightsailServer]:
    server, _ = start_endpoint({REGION: {"web": record()}})
    yield server
    server.stop()


# -- one fault per record: the faulty control fails, every other one still passes -------

def _ports(*rules: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(rec: dict[str, Any]) -> None:
        rec["instance"]["networking"]["ports"] = [
            {"fromPort": 22, "toPort": 22, "protocol": "tcp", "accessDirection": "inbound",
             "accessType": "Public", "cidrs": ["203.0.113.0/24"], "ipv6Cidrs": []}, *rules]
    return mutate


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(rec: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = rec
        for p in parents:
            node = node[p]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return mutate


def _world_ssh(rec: dict[str, Any]) -> None:
    rec["instance"]["networking"]["ports"][0]["cidrs"] = ["0.0.0.0/0"]


def _world_ssh6(rec: dict[str, Any]) -> None:
    rec["instance"]["networking"]["ports"][0]["ipv6Cidrs"] = ["::/0"]


def _ssh_from(cidrs: list[str], ipv6: list[str] | None = None) -> Callable[[dict], None]:
    def mutate(rec: dict[str, Any]) -> None:
        rule = rec["instance"]["networking"]["ports"][0]
        rule["cidrs"], rule["ipv6Cidrs"] = cidrs, ipv6 or []
    return mutate


def _all_of(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(rec: dict[str, Any]) -> None:
        for change in changes:
            change(rec)
    return mutate


# IPv4 minus one public address, in the 32 blocks that take: not a /0, still the world.
ALL_BUT_ONE = [str(n) for n in ipaddress.ip_network("0.0.0.0/0").address_exclude(
    ipaddress.ip_network("1.2.3.4/32"))]


# name: (mutation, control, outcome, fragments of message, of observed, of expected)
CASES: dict[str, tuple[Any, str, str, list[str], list[str], list[str]]] = {
    "ls01-stopped": (_set("instance.state", {"code": 80, "name": "stopped"}), "JADA-LS-01",
                     "fail", ["is stopped, not running"], ["stopped"], ["running"]),
    "ls02-dynamic": (_set("instance.isStaticIp", False), "JADA-LS-02", "fail",
                     ["no static IP is attached"], ["isStaticIp=false"], ["isStaticIp=true"]),
    "ls02-other-ip": (_set("instance.publicIpAddress", "198.51.100.99"), "JADA-LS-02",
                      "fail", ["public address is 198.51.100.99, expected 198.51.100.10"],
                      ["publicIpAddress=198.51.100.99"], ["publicIpAddress=198.51.100.10"]),
    "ls02-name": (_all_of(_set("instance.publicIpAddress", "127.0.0.1"),
                          # the model's IpV6Address pattern: 8 groups, no "::"
                          _set("instance.ipv6Addresses", ["0:0:0:0:0:0:0:1"])),
                 "JADA-LS-02", "pass",
                 ["static IP 127.0.0.1 is attached and localhost resolves to it"],
                 ["ssh.host localhost -> 127.0.0.1"], ["ssh.host localhost resolves only to"]),
    "ls02-name-elsewhere": (None, "JADA-LS-02", "fail",
                            ["ssh.host localhost resolves to 127.0.0.1",
                             "is not a public address of the instance (198.51.100.10)"],
                            ["publicIpAddress=198.51.100.10", "ssh.host localhost -> 127.0.0.1"],
                            ["198.51.100.10"]),
    "ls02-unresolvable": (None, "JADA-LS-02", "error",
                          ["ssh.host 'jada-nowhere.invalid' does not resolve"], [], []),
    "ls02-bad-name": (None, "JADA-LS-02", "error",
                      [f"ssh.host '{'a' * 64}.example' is not a valid DNS name"], [], []),
    "ls03-extra": (_ports({"fromPort": 8080, "toPort": 8090, "protocol": "tcp",
                           "cidrs": ["203.0.113.0/24"]}), "JADA-LS-03", "fail",
                   ["unexpected open: 8080-8090/tcp"], ["22/tcp, 8080-8090/tcp"], ["22/tcp"]),
    "ls03-closed": (_set("instance.networking.ports", []), "JADA-LS-03", "fail",
                    ["expected but not open: 22/tcp"], ["(none)"], ["22/tcp"]),
    "ls09-world": (_world_ssh, "JADA-LS-09", "fail",
                   ["admin port open to the Internet: 22 via 22/tcp from 0.0.0.0/0"],
                   ["0.0.0.0/0"], ["admin ports [22]"]),
    "ls09-world6": (_world_ssh6, "JADA-LS-09", "fail", ["22 via 22/tcp from ::/0"],
                    ["::/0"], ["/12 of public IPv6"]),
    "ls09-halves": (_ssh_from(["0.0.0.0/1", "128.0.0.0/1"]), "JADA-LS-09", "fail",
                    ["22 via 22/tcp from 0.0.0.0/1 and 128.0.0.0/1 (all of the public IPv4 "
                     "space)"], [], ["not open to more than a /8 of public IPv4"]),
    "ls09-halves6": (_ssh_from([], ["::/1", "8000::/1"]), "JADA-LS-09", "fail",
                     ["22 via 22/tcp from ::/1 (all of the public IPv6 space)"], [], []),
    "ls09-global6": (_ssh_from([], ["2000::/3"]), "JADA-LS-09", "fail",
                     ["22 via 22/tcp from 2000::/3 (all of the public IPv6 space)"], [], []),
    "ls09-upper-half": (_ssh_from(["128.0.0.0/1"]), "JADA-LS-09", "fail",
                        ["22 via 22/tcp from 128.0.0.0/1 (43.4% of the public IPv4 space)"],
                        [], []),
    "ls09-all-but-one": (_ssh_from(ALL_BUT_ONE), "JADA-LS-09", "fail",
                         ["22 via 22/tcp from 128.0.0.0/1, 64.0.0.0/2, 32.0.0.0/3 and ",
                          " more (99.9% of the public IPv4 space)"],
                         [], []),
    "ls09-two-rules": (_all_of(_ports({"fromPort": 0, "toPort": 65535, "protocol": "all",
                                       "cidrs": ["128.0.0.0/1"]}), _ssh_from(["0.0.0.0/1"])),
                       "JADA-LS-09", "fail",
                       ["22 via 22/tcp, all from 0.0.0.0/1 and 128.0.0.0/1 (all of the public "
                        "IPv4 space)", "22 via all from 128.0.0.0/1 (43.4% of"], [], []),
    "ls09-range": (_ports({"fromPort": 1, "toPort": 1024, "protocol": "tcp",
                           "cidrs": ["0.0.0.0/0"]}), "JADA-LS-09", "fail",
                   ["admin port open to the Internet: 22 via 1-1024/tcp from 0.0.0.0/0 (all "
                    "of the public IPv4 space)"], [], []),
    "ls09-slash7": (_ssh_from(["12.0.0.0/7"]), "JADA-LS-09", "fail",
                    ["22 via 22/tcp from 12.0.0.0/7 (0.9% of the public IPv4 space)"], [], []),
    # private and shared space is not the Internet; one public /8 is not more than a /8
    "ls09-not-internet": (_ssh_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                     "100.64.0.0/10", "11.0.0.0/8"],
                                    ["fc00::/7", "fe80::/10", "2001:db8::/32"]),
                          "JADA-LS-09", "pass", ["admin ports [22] are not open to the "
                                                 "Internet"], ["no admin port open"], []),
    "ls09-icmp": (_ports({"fromPort": 0, "toPort": 255, "protocol": "icmp",
                          "cidrs": ["0.0.0.0/0"]}), "JADA-LS-09", "pass", [], [], []),
    "ls09-bad-cidr": (_ssh_from(["203.0.113.0/24", "0.0.0.0/33"]), "JADA-LS-09", "error",
                      ["instance.networking.ports[0].cidrs[1] is not an IP network: "
                       "'0.0.0.0/33'"], [], []),
    "ls04-failed": (_set("metrics.StatusCheckFailed.spikes", [{"minutes_ago": 4, "value": 1}]),
                    "JADA-LS-04", "fail", ["status checks failed 1 time(s) in the last 30 min"],
                    ["sum=1 over 30 datapoints", "failed at"], ["sum=0"]),
    "ls04-nodata": (_set("metrics.StatusCheckFailed", None), "JADA-LS-04", "error",
                    ["no StatusCheckFailed datapoints in the last 30 min"], [], []),
    "ls05-low": (_set("metrics.BurstCapacityPercentage.value", 12), "JADA-LS-05", "fail",
                 ["burst capacity 12% is below the minimum 20%"], ["12%"], [">= 20%"]),
    # JSON numbers no CloudWatch statistic can be: an error naming the datapoint, never a
    # pass (an infinite percentage is above any floor; a negative count cancels a failure)
    "ls05-infinite": (_set("metrics.BurstCapacityPercentage.value", float("inf")),
                      "JADA-LS-05", "error",
                      ["to Lightsail GetInstanceMetricData: a BurstCapacityPercentage "
                       "datapoint's Average (Percent) is inf: expected a finite number 0..100"],
                      [], []),
    "ls04-negative": (_set("metrics.StatusCheckFailed.spikes",
                           [{"minutes_ago": 4, "value": 1}, {"minutes_ago": 3, "value": -1}]),
                      "JADA-LS-04", "error",
                      ["a StatusCheckFailed datapoint's Sum (Count) is -1.0: out of range, "
                       "expected 0..1e+300"], [], []),
    "ls06-optional": (_set("instance.metadataOptions.httpTokens", "optional"), "JADA-LS-06",
                      "fail", ["IMDSv2 is not required (httpTokens=optional)"],
                      ["httpTokens=optional"], ["httpTokens=required"]),
    "ls06-pending": (_set("instance.metadataOptions.state", "pending"), "JADA-LS-06", "fail",
                     ["httpTokens=required is not in effect yet: metadataOptions.state is "
                      "pending, not applied"], ["httpTokens=required", "state=pending"],
                     ["state=applied"]),
    "ls06-optional-pending": (_all_of(_set("instance.metadataOptions.state", "pending"),
                                      _set("instance.metadataOptions.httpTokens", "optional")),
                              "JADA-LS-06", "fail", ["IMDSv2 is not required (httpTokens="
                                                     "optional) (metadataOptions.state is "
                                                     "pending)"], [], []),
    "ls06-imds-off": (_all_of(_set("instance.metadataOptions.httpEndpoint", "disabled"),
                              _set("instance.metadataOptions.httpTokens", "optional"),
                              _set("metrics.MetadataNoToken", None)), "JADA-LS-06", "pass",
                      ["the instance metadata service is off (httpEndpoint=disabled, applied)"],
                      ["httpEndpoint=disabled", "state=applied"], []),
    "ls06-off-pending": (_all_of(_set("instance.metadataOptions.httpEndpoint", "disabled"),
                                 _set("instance.metadataOptions.state", "pending")),
                         "JADA-LS-06", "fail", ["httpEndpoint=disabled is not in effect yet: "
                                                "metadataOptions.state is pending"], [], []),
    "ls06-no-state": (_set("instance.metadataOptions.state", None), "JADA-LS-06", "error",
                      ["no usable instance.metadataOptions.state"], [], []),
    "ls06-v1-used": (_set("metrics.MetadataNoToken.spikes", [{"minutes_ago": 2, "value": 4}]),
                     "JADA-LS-06", "fail", ["4 metadata read(s) without a token"],
                     ["MetadataNoToken sum=4"], ["MetadataNoToken sum=0"]),
    "ls07-disabled": (_set("instance.addOns", [{"name": "AutoSnapshot", "status": "Disabled"}]),
                      "JADA-LS-07", "fail", ["automatic snapshot add-on is Disabled"],
                      ["AutoSnapshot add-on Disabled"], ["AutoSnapshot Enabled"]),
    "ls07-old": (_set("auto_snapshots", [{"age_hours": 72, "status": "Success"}]), "JADA-LS-07",
                 "fail", ["is 72.0 h old (max 48 h"], ["newest Success, older than 48 h"],
                 ["<= 48 h old"]),
    "ls07-failed": (_set("auto_snapshots", [{"age_hours": 0.5, "status": "InProgress"},
                                            {"age_hours": 3, "status": "Failed"},
                                            {"age_hours": 27, "status": "Success"}]),
                    "JADA-LS-07", "fail", ["newest automatic snapshot is Failed"],
                    ["newest Failed"], ["newest snapshot Success"]),
    "ls08-bundle": (_set("instance.bundleId", "nano_3_0"), "JADA-LS-08", "fail",
                    ["bundleId is nano_3_0, expected medium_3_0"], ["bundleId=nano_3_0"],
                    ["bundleId=medium_3_0"]),
}


# Targets that differ from ls_target(name): ssh.host instead of lightsail.public_ip (no host
# control runs: the suite is asked for JADA-LS only), or more open ports expected.
SSH_HOST = {"ls02-name": "localhost", "ls02-name-elsewhere": "localhost",
            "ls02-unresolvable": "jada-nowhere.invalid", "ls02-bad-name": f"{'a' * 64}.example"}
OPEN_PORTS = {"ls09-two-rules": [{"from_port": 22, "protocol": "tcp"},
                                 {"from_port": 0, "to_port": 65535, "protocol": "all"}],
              "ls09-range": [{"from_port": 22, "protocol": "tcp"},
                             {"from_port": 1, "to_port": 1024, "protocol": "tcp"}],
              "ls09-icmp": [{"from_port": 22, "protocol": "tcp"},
                            {"from_port": 0, "to_port": 255, "protocol": "icmp"}]}


def case_target(name: str) -> dict[str, Any]:
    target = ls_target(name)
    if name in SSH_HOST:
        target["lightsail"]["public_ip"] = None
        target["ssh"] = {"host": SSH_HOST[name], "connect_timeout": 5}
    if name in OPEN_PORTS:
        target["expect"] = {"lightsail": {"open_ports": OPEN_PORTS[name]}}
    return target


@pytest.fixture(scope="module")
def control_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, int], int]:
    """One run over a compliant target and one target per fault (plus a missing one)."""
    tmp = tmp_path_factory.mktemp("controls")
    records = {"compliant": record(name="compliant"), "ls08-unset": record(name="ls08-unset"),
               "port-bool": record(_ports({"fromPort": True, "toPort": 22, "protocol": "tcp",
                                           "cidrs": ["0.0.0.0/0"]}), "port-bool")}
    records.update({name: record(case[0], name) for name, case in CASES.items()})
    server, url = start_endpoint({REGION: records})
    try:
        targets = {name: case_target(name) for name in records}
        targets["ls08-unset"]["expect"] = {"lightsail": {"bundle_id": None,
                                                         "blueprint_id": None}}
        targets["ls01-missing"] = ls_target("ls01-missing")
        profile = profile_for(url, targets)
        profile["expect"] = {"lightsail": {"bundle_id": "medium_3_0",
                                           "blueprint_id": "debian_12"}}
        run = run_suite(tmp, profile, args=("-k", "JADA-LS"))
        return run, dict(server.calls), len(targets)
    finally:
        server.stop()


def test_each_control_passes_when_compliant(
        control_run: tuple[Run, dict[str, int], int]) -> None:
    run, _, _ = control_run
    assert run.proc.returncode == 1
    for control in LS:
        got = run("compliant", control)
        assert got["outcome"] == "pass", got
        assert got["observed"] and got["expected"] and got["source"], got


@pytest.mark.parametrize("name", list(CASES))
def test_each_fault_decides_its_own_control_only(
        control_run: tuple[Run, dict[str, int], int], name: str) -> None:
    run, _, _ = control_run
    _, control, outcome, msg, observed, expected = CASES[name]
    got = run(name, control)
    assert got["outcome"] == outcome, (name, got)
    for frag in msg:
        assert frag in got["message"], (name, frag, got["message"])
    for frag in observed:
        assert frag in (got["observed"] or ""), (name, frag, got["observed"])
    for frag in expected:
        assert frag in (got["expected"] or ""), (name, frag, got["expected"])
    others = {c: run(name, c)["outcome"] for c in LS if c != control}
    assert set(others.values()) == {"pass"}, (name, others)


def test_missing_instance_and_unset_expectations(
        control_run: tuple[Run, dict[str, int], int]) -> None:
    run, calls, n_targets = control_run
    skip = run("ls08-unset", "JADA-LS-08")
    assert skip["outcome"] == "skipped"
    assert "names no expect.lightsail.bundle_id or blueprint_id" in skip["message"]

    missing = run("ls01-missing", "JADA-LS-01")
    assert missing["outcome"] == "fail"
    assert "'ls01-missing' not found in region us-east-1" in missing["message"]
    for control in LS[1:]:
        if control != "JADA-LS-08":
            other = run("ls01-missing", control)
            assert other["outcome"] == "error", other
            assert "not found in region us-east-1" in other["message"]

    # A port that is not a whole number (JSON true): both firewall controls error, naming it.
    for control in ("JADA-LS-03", "JADA-LS-09"):
        got = run("port-bool", control)
        assert got["outcome"] == "error", got
        assert ("instance.networking.ports[1].fromPort is True (bool): expected a "
                "whole number -1..65535") in got["message"], got

    # One GetInstance per target, however many controls read it.
    assert calls["GetInstance"] == n_targets


# -- ICMP rules as Lightsail writes them: fromPort the type, toPort the code, -1 all -------

PING = {"fromPort": 8, "toPort": -1, "protocol": "icmp", "cidrs": ["0.0.0.0/0"],
        "ipv6Cidrs": []}
ECHO6 = {"fromPort": 128, "toPort": 0, "protocol": "icmpv6", "cidrs": [],
         "ipv6Cidrs": ["::/0"]}
ALL_ICMP = {"fromPort": -1, "toPort": -1, "protocol": "icmp", "cidrs": ["0.0.0.0/0"]}
ICMP_EXPECTED = [{"from_port": 22, "protocol": "tcp"},
                 {"from_port": 8, "to_port": -1, "protocol": "icmp"},
                 {"from_port": 128, "to_port": 0, "protocol": "icmpv6"}]


def test_icmp_rules_are_judged_as_type_and_code(tmp_path: Path) -> None:
    """A firewall with Ping (8/-1) and ICMPv6 echo (128/0) open to everyone, as the
    profile says: LS-03 and LS-09 pass and name them. One that opens every ICMP type
    instead of Ping fails LS-03 naming both; LS-09 is not about ICMP at all."""
    records = {"ping": record(_ports(PING, ECHO6), "ping"),
               "all-icmp": record(_ports(ALL_ICMP, ECHO6), "all-icmp")}
    server, url = start_endpoint({REGION: records})
    try:
        targets = {name: ls_target(name, expect={"lightsail": {"open_ports": ICMP_EXPECTED}})
                   for name in records}
        run = run_suite(tmp_path, profile_for(url, targets),
                        args=("-k", "JADA-LS-03 or JADA-LS-09"))
    finally:
        server.stop()
    ls03 = run("ping", "JADA-LS-03")
    assert ls03["outcome"] == "pass", ls03
    assert ls03["message"] == ("firewall opens exactly 22/tcp, icmp type 8 code all, "
                               "icmpv6 type 128 code 0"), ls03
    ls09 = run("ping", "JADA-LS-09")
    assert ls09["outcome"] == "pass", ls09
    assert ls09["message"] == ("admin ports [22] are not open to the Internet (ICMP rules "
                               "open no port: icmp type 8 code all, icmpv6 type 128 code 0)")
    other = run("all-icmp", "JADA-LS-03")
    assert other["outcome"] == "fail", other
    assert other["message"] == ("firewall differs: unexpected open: icmp type all code all; "
                                "expected but not open: icmp type 8 code all"), other
    assert other["source"].endswith("instance.networking.ports"), other
    assert run("all-icmp", "JADA-LS-09")["outcome"] == "pass"


# -- the client layer under faults: one run, one instance per fault ----------------------

# instance: (operation, fault, count, expected outcome, message fragments, GetInstance calls)
FAULTS: dict[str, tuple[str, str, int | None, str, list[str], int]] = {
    "burst": ("GetInstance", "throttle", 1, "pass", [], 2),
    "slow-once": ("GetInstance", "slow", 1, "pass", [], 2),
    "throttle": ("*", "throttle", None, "error", [
        "throttled: Lightsail GetInstance still answered ThrottlingException after 2 "
        "attempt(s)", "aws.max_attempts=2"], 2),
    "http500": ("*", "http500", None, "error", [
        "Lightsail GetInstance failed at http://127.0.0.1:",
        "HTTP 500 ServiceException after 2 attempt(s)"], 2),
    "unavailable": ("*", "unavailable", None, "error", [
        "HTTP 503 ServiceUnavailable after 2 attempt(s)"], 2),
    "denied": ("*", "access_denied", None, "error", [
        "access denied", "IAM action lightsail:GetInstance in us-east-1"], 1),
    "malformed": ("*", "malformed", None, "error", [
        "malformed response from http://127.0.0.1:", "to Lightsail GetInstance"], 1),
    "expired": ("*", "expired_token", None, "error", [
        "AWS credentials expired", "ExpiredTokenException"], 1),
    "rejected": ("*", "invalid_token", None, "error", [
        "AWS credentials rejected", "UnrecognizedClientException"], 1),
    "slow": ("*", "slow", None, "error", [
        "no answer from http://127.0.0.1:",
        "to Lightsail GetInstance within the read timeout of 0.5 s (2 attempt(s))"], 2),
    "metrics-denied": ("GetInstanceMetricData", "access_denied", None, "pass", [], 1),
}
# The burst also throttles each other operation once: every call needs its retry.
BURST_EXTRA = [("GetInstanceMetricData", 1), ("GetAutoSnapshots", 1)]
METRIC_CONTROLS = ["JADA-LS-04", "JADA-LS-05", "JADA-LS-06"]


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, LightsailServer]]:
    tmp = tmp_path_factory.mktemp("faults")
    server, url = start_endpoint({REGION: {name: record(name=name) for name in FAULTS}})
    try:
        for name, (operation, fault, count, *_) in FAULTS.items():
            server.add_fault({"operation": operation, "fault": fault, "count": count,
                              "delay": 3, "instance": name})
        for operation, count in BURST_EXTRA:
            server.add_fault({"operation": operation, "fault": "throttle", "count": count,
                              "instance": "burst"})
        profile = profile_for(url, {name: ls_target(name) for name in FAULTS},
                              read_timeout=0.5, max_attempts=2)
        yield run_suite(tmp, profile, timeout=90), server
    finally:
        server.stop()


def _all(run: Run, target: str, outcome: str, fragments: list[str],
         controls: list[str] | None = None) -> None:
    for control in controls or [c for c in LS if c != "JADA-LS-08"]:
        got = run(target, control)
        assert got["outcome"] == outcome, (target, control, got)
        for frag in fragments:
            assert frag in got["message"], (target, control, frag, got["message"])


@pytest.mark.parametrize("name", [n for n, f in FAULTS.items() if f[3] == "pass"])
def test_transient_faults_are_absorbed_by_retries(fault_run: tuple[Run, LightsailServer],
                                                  name: str) -> None:
    run, server = fault_run
    controls = [c for c in LS if c not in METRIC_CONTROLS] if name == "metrics-denied" else None
    _all(run, name, "pass", [], [c for c in controls or LS if c != "JADA-LS-08"])
    assert server.instance_calls[("GetInstance", name)] == FAULTS[name][5]
    if name == "burst":
        assert not server.faults or all(r["instance"] != "burst" for r in server.faults)
        assert server.instance_calls[("GetAutoSnapshots", "burst")] == 2


@pytest.mark.parametrize("name", [n for n, f in FAULTS.items() if f[3] == "error"])
def test_persistent_fault_is_an_error_naming_the_cause(fault_run: tuple[Run, LightsailServer],
                                                       name: str) -> None:
    run, server = fault_run
    _all(run, name, "error", FAULTS[name][4])
    assert f"ERROR JADA-LS-01[{name}]" in run.proc.stdout
    # Retried as botocore's policy says, then cached: the other controls ask no more.
    assert settled(server, ("GetInstance", name), FAULTS[name][5]) == FAULTS[name][5]


def settled(server: LightsailServer, key: tuple[str, str], want: int) -> int:
    """The endpoint's count of calls, once a call the client already gave up on (a read
    timeout on a loaded machine) has been read by the server too; at most 5 s."""
    deadline = time.monotonic() + 5
    while server.instance_calls[key] < want and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.instance_calls[key]


def test_access_denied_on_metrics_names_that_action(
        fault_run: tuple[Run, LightsailServer]) -> None:
    run, _ = fault_run
    _all(run, "metrics-denied", "error", ["IAM action lightsail:GetInstanceMetricData"],
         METRIC_CONTROLS)


def test_fault_run_is_bounded(fault_run: tuple[Run, LightsailServer]) -> None:
    run, _ = fault_run
    assert run.proc.returncode == 1
    assert run.elapsed < 45, run.elapsed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_down_is_an_error_naming_endpoint_and_timeout(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    run = run_suite(tmp_path, profile_for(url, {"web": ls_target("web")}), timeout=30)
    _all(run, "web", "error", [f"cannot connect to {url}", "connect timeout 1 s, 2 attempt(s)"])
    assert run.elapsed < 20


def test_no_credentials_is_an_error(tmp_path: Path, endpoint: LightsailServer) -> None:
    env = aws_env(tmp_path)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    run = run_suite(tmp_path, profile_for(endpoint.url, {"web": ls_target("web")}), env=env)
    _all(run, "web", "error", ["no AWS credentials found for Lightsail GetInstance"])
    assert endpoint.calls["GetInstance"] == 0


def test_named_aws_profile_is_used_and_a_missing_one_named(tmp_path: Path,
                                                          endpoint: LightsailServer) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(f"[jada]\naws_access_key_id = {KEY_ID}\n"
                     f"aws_secret_access_key = {SECRET}\n")
    env = aws_env(tmp_path, AWS_SHARED_CREDENTIALS_FILE=str(creds))
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    run = run_suite(tmp_path, profile_for(endpoint.url, {"web": ls_target("web")},
                                          profile="jada"), env=env)
    _all(run, "web", "pass", [])
    run = run_suite(tmp_path, profile_for(endpoint.url, {"web": ls_target("web")},
                                          profile="nope"), env=env)
    _all(run, "web", "error", ["AWS profile 'nope' (aws.profile) is not in the shared config"])


# -- least privilege and startup cost ----------------------------------------------------

def test_iam_policy_allows_exactly_the_operations_called(
        control_run: tuple[Run, dict[str, int], int]) -> None:
    """Every operation a full run called is granted, and nothing else is (but the two that
    only Lightsail discovery calls: tests/run/test_fleet.py counts those)."""
    run, calls, _ = control_run
    assert {r["outcome"] for r in run.records.values()} >= {"pass", "fail"}
    called = {op for op, n in calls.items() if n}
    policy = json.loads((REPO / "ci" / "iam-policy.json").read_text())
    allowed: set[str] = set()
    for stmt in policy["Statement"]:
        assert stmt["Effect"] == "Allow" and "NotAction" not in stmt
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        assert all("*" not in a for a in actions), actions
        allowed |= set(actions)
    assert allowed == {f"lightsail:{op}" for op in (*called, *DISCOVERY_OPERATIONS)}
    assert called == set(OPERATIONS)


def test_collecting_the_suite_does_not_import_boto3(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump(profile_for("http://127.0.0.1:9", {"web": ls_target("web")})))
    code = ("import sys, pytest\n"
            f"rc = pytest.main(['-p', 'no:cacheprovider', '--jada-profile', {str(profile)!r}, "
            "'--collect-only', '-q'])\n"
            "print('IMPORTED', sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=aws_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert "JADA-LS-01[web]" in proc.stdout
    assert "IMPORTED []" in proc.stdout, proc.stdout[-2000:]


# -- the Lightsail calls overlap the SSH round trip -----------------------------------------

FIRST_REPORT = """\
import json, urllib.request

def pytest_runtest_logfinish(nodeid, location):
    with open("first.json", "a+") as f:
        f.seek(0)
        if f.read():
            return
        with urllib.request.urlopen(URL + "/_jada/calls", timeout=5) as answer:
            f.write(json.dumps({"first": nodeid, "calls": json.loads(answer.read())}))
"""


def hold_until_calls(listener: socket.socket, endpoint: LightsailServer,
                     done: threading.Event) -> None:
    """Accept and hold every connection silently until the endpoint has answered the
    calls only LS controls make, then close them (or when the test is done)."""
    listener.settimeout(0.05)
    held: list[socket.socket] = []
    while not done.is_set():
        try:
            held.append(listener.accept()[0])
        except TimeoutError:
            pass
        if endpoint.calls["GetInstanceMetricData"] >= 1 and \
                endpoint.calls["GetAutoSnapshots"] >= 1:
            break
    for conn in held:
        conn.close()
    while not done.wait(0.05):  # a reconnect meets a closed door at once
        try:
            listener.accept()[0].close()
        except TimeoutError:
            pass


def test_lightsail_calls_overlap_the_ssh_wait(endpoint: LightsailServer, tmp_path: Path) -> None:
    """Every LS control's calls are made while the target's SSH is still pending, not one
    after another once the host's facts are in. The first item of the run is a host
    control waiting on a loopback port that sends no SSH banner until the endpoint has
    answered the metric and snapshot calls that only LS controls make; then it closes the
    connection. Were the calls made only after the host's facts, nothing would close it
    before ssh's ConnectTimeout (30 s), and the first report would see no call. Not a timer
    race: a loaded machine's slow boto3 start only delays the close (it failed with a 2 s
    timeout at load average 40)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        ssh = {"host": "127.0.0.1", "port": silent.getsockname()[1], "connect_timeout": 30}
        done = threading.Event()
        holder = threading.Thread(target=hold_until_calls, args=(silent, endpoint, done),
                                  daemon=True)
        holder.start()
        (tmp_path / "conftest.py").write_text(f"URL = {endpoint.url!r}\n{FIRST_REPORT}")
        try:
            run = run_suite(tmp_path, profile_for(endpoint.url,
                                                  {"web": ls_target("web", ssh=ssh)}))
        finally:
            done.set()
            holder.join()
    seen = json.loads((tmp_path / "first.json").read_text())
    assert seen["first"].startswith("JADA-CFG-"), seen  # a host control: it waited on SSH
    first = run("web", seen["first"].partition("[")[0])
    assert first["outcome"] == "error" and first["message"].startswith("unreachable: "), first
    assert seen["calls"].get("GetInstanceMetricData", 0) >= 1, seen
    assert seen["calls"].get("GetAutoSnapshots", 0) == 1, seen
    assert run("web", "JADA-LS-01")["outcome"] == "pass"
    assert endpoint.calls["GetAutoSnapshots"] == 1  # asked once, read by the item
