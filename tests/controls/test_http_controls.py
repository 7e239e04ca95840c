"""JADA-HTTP against real sandbox hosts: the test agent's HTTPS health endpoint, reached
from the runner at each host's address, with a certificate from the sandbox's own CA.

``compliant`` passes HTTP-01..03; every ``sandbox/hosts/http-*`` host breaks one thing and
fails the control it is about, named in the message. A closed port cannot be looked at by
the certificate check (error) and is also a firewall port nothing serves (HTTP-03 fails):
those consequences are declared, like drifted's faults.yaml, and every other outcome of
every host must be pass.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from jada_checks.controls import catalogue
from tests.support.paths import REPO
from tests.support.sandbox_harness import Run, SandboxHarness

pytestmark = [pytest.mark.sandbox,
              pytest.mark.sandbox_hosts("compliant", "drifted", "http-*")]

HTTP = [c.id for c in catalogue() if c.side == "http"]
HOSTS = REPO / "sandbox" / "hosts"
REFUSED = "port 7070: connection refused (nothing listens on it, or a firewall rejects it)"
# host -> {control: (outcome, words its message must contain)}; unnamed controls pass
FAULTS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "http-01-closed": {
        "JADA-HTTP-01": ("fail", (REFUSED,)),
        "JADA-HTTP-02": ("error", ("http: port 7070: no TLS session to look at "
                                   "(connection refused)",)),
        "JADA-HTTP-03": ("fail", ("firewall opens 7070/tcp but no process of "
                                  "jada-agent.service listens on port 7070 from outside",)),
    },
    "http-01-filtered": {
        "JADA-HTTP-01": ("fail", ("port 7070: connect timed out after 3 s (filtered: a "
                                  "firewall drops the connection, while ssh.port 22 of this "
                                  "address accepts connections)",)),
        "JADA-HTTP-02": ("error", ("http: port 7070: no TLS session to look at "
                                   "(connect timed out after 3 s)",)),
    },
    "http-01-status-500": {
        "JADA-HTTP-01": ("fail", ("port 7070: GET /healthz answered 500 Internal Server "
                                  "Error, expected 200",)),
    },
    "http-01-slow": {
        "JADA-HTTP-01": ("fail", ("port 7070: GET /healthz answered 200 OK in ",
                                  " ms, over the budget of 4000 ms")),
    },
    "http-02-expired": {
        "JADA-HTTP-02": ("fail", ("certificate has expired",
                                  "subject CN=http-02-expired.jada-sandbox.test",
                                  "issuer O=jada-sandbox, CN=jada-sandbox ",
                                  "(expired 30 days ago)")),
    },
    "http-02-wrong-name": {
        "JADA-HTTP-02": ("fail", ("IP address mismatch, certificate is not valid for '{ip}'",
                                  "subject CN=wrong-host.jada-sandbox.test",
                                  "(90 days left)")),
    },
    "http-03-unlistened": {
        "JADA-HTTP-03": ("fail", ("firewall opens 9090/tcp but no process of "
                                  "jada-agent.service listens on port 9090 from outside",)),
    },
    # A reverse proxy (a stand-in unit named nginx.service) serves 443 and 80 for ACME,
    # both declared served_by: nginx.service: the firewall and the listeners agree.
    "http-03-reverse-proxy": {
        "JADA-HTTP-03": ("pass", ("the firewall and jada-agent.service agree: firewall tcp: "
                                  "22/tcp, 80/tcp, 443/tcp; jada-agent.service listens on "
                                  "0.0.0.0:7070 (python3); served by another unit as "
                                  "declared (expect.http served_by): 80 by nginx.service "
                                  "(0.0.0.0:80 (python3)), 443 by nginx.service (0.0.0.0:443 "
                                  "(python3))",)),
    },
    # The same, with only 443 declared: nginx.service on 80 stays a finding, named.
    "http-03-undeclared-proxy": {
        "JADA-HTTP-03": ("fail", ("firewall opens 80/tcp but no process of jada-agent.service "
                                  "listens on port 80 from outside (nginx.service listens on "
                                  "port 80: 0.0.0.0:80 (python3); not declared: an expect.http "
                                  "entry for port 80 with served_by: nginx.service would "
                                  "accept it)",)),
    },
}


@pytest.fixture(scope="module")
def run(sandbox: SandboxHarness) -> Run:
    """One run over compliant, drifted and every HTTP fault host (every control)."""
    return sandbox.run_suite(["compliant", "drifted", *sorted(FAULTS)], timeout=300)


def http_outcomes(run: Run, host: str) -> dict[str, str]:
    return {c: run.record(c, host)["outcome"] for c in HTTP}


def test_compliant_passes_http_01_to_03(run: Run, sandbox: SandboxHarness) -> None:
    ip = sandbox.sandbox.address("compliant")
    assert http_outcomes(run, "compliant") == dict.fromkeys(HTTP, "pass"), run.output[-3000:]
    one = run.record("JADA-HTTP-01", "compliant")
    assert one["message"].startswith("port 7070: GET /healthz answered 200 OK in "), one
    assert one["source"] == (f"GET https://{ip}:7070/healthz from the runner "
                             "(User-Agent jada-checks/0.1.0)")
    two = run.record("JADA-HTTP-02", "compliant")["message"]
    assert "verifies against the CA bundle " in two and f"names '{ip}'" in two
    assert "subject CN=compliant.jada-sandbox.test, O=jada-sandbox, issuer O=jada-sandbox, " \
           "CN=jada-sandbox " in two and "(90 days left)" in two
    three = run.record("JADA-HTTP-03", "compliant")["message"]
    assert three == ("the firewall and jada-agent.service agree: firewall tcp: 22/tcp, "
                     "7070/tcp; jada-agent.service listens on 0.0.0.0:7070 (python3)")


def test_compliant_passes_every_other_control_too(run: Run) -> None:
    bad = {r["control"]: r["message"] for r in run.records
           if r["target"] == "compliant" and r["outcome"] != "pass"}
    assert bad == {}


@pytest.mark.parametrize("host", sorted(FAULTS))
def test_fault_host_fails_exactly_its_http_control(run: Run, sandbox: SandboxHarness,
                                                   host: str) -> None:
    want = FAULTS[host]
    assert http_outcomes(run, host) == {c: want.get(c, ("pass",))[0] for c in HTTP}, \
        {c: run.record(c, host)["message"] for c in HTTP}
    ip = sandbox.sandbox.address(host)
    for control, (_, words) in want.items():
        rec = run.record(control, host)
        for word in words:
            assert word.format(ip=ip) in rec["message"], (word, rec["message"])
        if rec["outcome"] == "fail":
            assert rec["observed"] and rec["expected"] and rec["source"], rec
    declared = HOSTS / host / "faults.yaml"
    if declared.is_file():
        faults = yaml.safe_load(declared.read_text())["faults"]
        assert faults == {c: outcome for c, (outcome, _) in want.items()}, declared
    others = {r["control"]: r["message"] for r in run.records
              if r["target"] == host and r["control"] not in HTTP and r["outcome"] != "pass"}
    assert others == {}, f"{host} should break only HTTP controls"


def test_drifted_fails_http_03_on_its_firewall_and_answers_otherwise(run: Run) -> None:
    assert http_outcomes(run, "drifted") == {"JADA-HTTP-01": "pass", "JADA-HTTP-02": "pass",
                                             "JADA-HTTP-03": "fail"}
    msg = run.record("JADA-HTTP-03", "drifted")["message"]
    assert msg == ("firewall opens 8080/tcp but no process of jada-agent.service listens on "
                   "port 8080 from outside; service port(s) 7070 (expect.http) not open in "
                   "the Lightsail firewall")
    faults = yaml.safe_load((REPO /
                             "sandbox/hosts/drifted/faults.yaml").read_text())["faults"]
    assert {c: o for c, o in faults.items() if c in HTTP} == {"JADA-HTTP-03": "fail"}


def test_every_http_fault_dir_is_covered() -> None:
    assert {d.name for d in HOSTS.iterdir() if d.name.startswith("http-")} == set(FAULTS)


def test_filtered_port_is_told_from_a_down_host_by_the_ssh_port(run: Run,
                                                               sandbox: SandboxHarness) -> None:
    """http-01-filtered drops SYNs to 7070 inside its own netns; sshd on 22 still answers,
    so the timeout is a filtered port (fail), the reference is named as the source, and the
    agent behind the filter still listens (HTTP-03 passes)."""
    ip = sandbox.sandbox.address("http-01-filtered")
    one = run.record("JADA-HTTP-01", "http-01-filtered")
    assert one["source"].endswith(f"; TCP connect to {ip}:22 (ssh.port, closed at once) as "
                                  "the reference"), one
    assert run.record("JADA-HTTP-03", "http-01-filtered")["outcome"] == "pass"


def test_unreachable_address_is_one_error_per_target_within_the_connect_timeout(
        run: Run, sandbox: SandboxHarness, tmp_path: Path) -> None:
    """The host's own interface goes down (inside its namespace: the machine's end and its
    route stay, so nothing is sent anywhere but into that veth): its HTTP-01/02 error with
    one reason, after one connect timeout for all ports, not one per port or control."""
    host = "http-03-unlistened"
    path = sandbox.profile_for([host], tmp_path / "profile.yaml")
    data = yaml.safe_load(path.read_text())
    data["targets"][0]["ssh"]["connect_timeout"] = 2
    data["expect"]["http"] = [dict(e, connect_timeout=2) for e in data["expect"]["http"]]
    data["expect"]["http"].append(dict(data["expect"]["http"][0], port=7071))
    path.write_text(yaml.safe_dump(data))
    sandbox.sandbox.exec(host, "ip link set eth0 down")
    try:
        start = time.monotonic()
        down = sandbox.run_suite([], "-k", "HTTP-01 or HTTP-02", profile=path)
        elapsed = time.monotonic() - start
    finally:
        sandbox.sandbox.exec(host, "ip link set eth0 up")
    ip = sandbox.sandbox.address(host)
    one = down.record("JADA-HTTP-01", host)
    assert one["outcome"] == "error", (one["message"], down.output[-2000:])
    # a silent link times out; an ARP that gets no answer may end as "no route to host";
    # the reference ssh.port 22 at the same address gets no answer either
    head = f"http: {ip} is unreachable: connect to port(s) 7070, 7071 timed out (2 s), and "
    assert one["message"] in (
        head + "so did the reference ssh.port 22: the host is down or the path to it is cut",
        head + "the reference ssh.port 22 did not answer either (No route to host)",
        f"http: {ip} is unreachable: No route to host"), one
    two = down.record("JADA-HTTP-02", host)
    assert (two["outcome"], two["message"]) == ("error", one["message"]), two
    assert max(r["duration"] for r in down.records) < 2 + 1.5, down.records
    assert elapsed < 20 and "Traceback" not in down.output
