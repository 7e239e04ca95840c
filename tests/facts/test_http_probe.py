"""JADA-HTTP outcomes against real servers on loopback: every outcome HTTP-01 tells apart,
the certificate judgement of HTTP-02, and what a request carries.

No sandbox host: each case is a real socket (a closed port, a full accept queue, a plain
HTTP server asked for TLS, a slow or failing server, a TLS server with a certificate from
a CA made here with openssl), probed by ``facts/http.py`` and judged by the controls.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import jada_checks
from jada_checks.controls import catalogue
from jada_checks.facts.http import Knock, Probe, knock, probe, probe_target
from jada_checks.facts.http_facts import HttpFacts
from jada_checks.inputs import fill_defaults, load_schema
from jada_checks.model import REGISTRY, CheckError, Outcome
from jada_checks.sandbox import tls

catalogue()
LOOP = "127.0.0.1"
SCHEMA = load_schema("profile.schema.json")


def entry(port: int, **kw: Any) -> dict[str, Any]:
    """An expect.http entry with the schema's defaults (plain http unless asked)."""
    return fill_defaults({"port": port, "scheme": "http", "connect_timeout": 1,
                          "read_timeout": 2, **kw}, SCHEMA["$defs"]["http_expect"], SCHEMA)


@dataclass
class Ctx:
    """What the HTTP-01/02 checks read: the probes and the expectations."""

    http: HttpFacts
    expect: dict[str, Any]


def judge(control: str, entries: list[dict[str, Any]], address: str = LOOP,
          reference: int | None = None) -> Outcome:
    """Probe ``entries`` (and ``reference``, the target's ssh.port) and judge them."""
    probes, knocked = probe_target(address, entries, reference)
    return decide(control, HttpFacts(address, tuple(probes), knocked), entries)


def decide(control: str, facts: HttpFacts, entries: list[dict[str, Any]]) -> Outcome:
    try:
        return REGISTRY[control].check(Ctx(facts, {"http": entries}))  # type: ignore[arg-type]
    except CheckError as exc:
        return Outcome("error", str(exc))


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers ``status`` after ``delay`` s and keeps the request headers."""

    port = 0
    status = 200
    delay = 0.0
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(dict(self.headers.items(), path=self.path))
        threading.Event().wait(self.delay)
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def serve(handler: type[http.server.BaseHTTPRequestHandler],
          context: ssl.SSLContext | None = None) -> tuple[http.server.HTTPServer, int]:
    server = http.server.ThreadingHTTPServer((LOOP, 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture
def server() -> Iterator[type[Recorder]]:
    handler = type("Handler", (Recorder,), {"seen": []})
    srv, port = serve(handler)
    handler.port = port
    yield handler
    srv.shutdown()
    srv.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind((LOOP, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_answer_in_time_passes_and_carries_our_user_agent(server: type[Recorder]) -> None:
    out = judge("JADA-HTTP-01", [entry(server.port)])
    assert out.status == "pass", out
    assert f"port {server.port}: GET /healthz answered 200 OK in " in out.message
    seen = server.seen[0]
    assert seen["User-Agent"] == f"jada-checks/{jada_checks.__version__}"
    assert seen["path"] == "/healthz" and seen["Host"] == f"{LOOP}:{server.port}"
    assert "User-Agent jada-checks/" in (out.source or "")


def test_refused_is_a_fail_naming_the_port() -> None:
    port = closed_port()
    out = judge("JADA-HTTP-01", [entry(port)])
    assert out.status == "fail", out
    assert out.message == (f"port {port}: connection refused (nothing listens on it, or a "
                           "firewall rejects it)")


@contextmanager
def silent_port() -> Iterator[int]:
    """A port whose SYNs get no answer: a full accept queue drops them (tcp_conn_request),
    as a filtering firewall does."""
    full = socket.socket()
    full.bind((LOOP, 0))
    full.listen(0)
    first = socket.create_connection((LOOP, full.getsockname()[1]))  # fills the queue
    try:
        yield full.getsockname()[1]
    finally:
        first.close()
        full.close()


def test_filtered_port_times_out_and_an_all_silent_address_is_one_error(
        server: type[Recorder]) -> None:
    with silent_port() as port:
        silent = entry(port, connect_timeout=0.5)
        both = judge("JADA-HTTP-01", [entry(server.port), silent])
        assert both.status == "fail", both
        assert both.message == (f"port {port}: connect timed out after 0.5 s (filtered: a "
                                f"firewall drops the connection, while port {server.port} "
                                "of this address answers)")
        alone = judge("JADA-HTTP-01", [silent])
        assert alone.status == "error", alone
        assert alone.message == (f"http: {LOOP} is unreachable: connect to port(s) {port} "
                                 "timed out (0.5 s; the host is down or every service port "
                                 "is filtered: the target has no ssh.port to tell which)")
        cert = judge("JADA-HTTP-02", [dict(silent, scheme="https")])
        assert (cert.status, cert.message) == ("error", alone.message)


def test_a_lone_silent_port_is_filtered_when_the_ssh_port_answers(
        server: type[Recorder]) -> None:
    """The reference (ssh.port) connects, or is refused: a TCP stack at the address answers
    (RFC 9293 3.5.2), so the service port's silence is a filter, a fail naming it."""
    with silent_port() as port:
        silent = entry(port, connect_timeout=0.5)
        up = judge("JADA-HTTP-01", [silent], reference=server.port)
        assert up.status == "fail", up
        assert up.message == (f"port {port}: connect timed out after 0.5 s (filtered: a "
                              f"firewall drops the connection, while ssh.port {server.port} "
                              "of this address accepts connections)")
        assert up.source.endswith(f"; TCP connect to {LOOP}:{server.port} (ssh.port, closed "
                                  "at once) as the reference"), up.source
        refused = judge("JADA-HTTP-01", [silent], reference=closed_port())
        assert refused.status == "fail", refused
        assert "(filtered: a firewall drops the connection, while ssh.port " in refused.message
        assert refused.message.endswith(" of this address answers with a reset)"), refused
        # no certificate behind a filter: HTTP-02 cannot look (error), never a pass
        cert = judge("JADA-HTTP-02", [dict(silent, scheme="https")], reference=server.port)
        assert (cert.status, cert.message) == (
            "error", f"http: port {port}: no TLS session to look at (connect timed out after "
                     "0.5 s)")
    assert server.seen == []  # the reference is a bare connect: no request on it


def test_a_silent_ssh_port_too_is_one_error_within_one_connect_timeout() -> None:
    """Service port and reference are tried at the same time: a silent address costs one
    connect timeout, not two, and is an error (a host that is down looks the same)."""
    with silent_port() as port, silent_port() as ssh_port:
        silent = entry(port, connect_timeout=1)
        start = time.monotonic()
        out = judge("JADA-HTTP-01", [silent, dict(silent, path="/other")], reference=ssh_port)
        elapsed = time.monotonic() - start
        assert out.status == "error", out
        assert out.message == (f"http: {LOOP} is unreachable: connect to port(s) {port}, "
                               f"{port} timed out (1 s), and so did the reference ssh.port "
                               f"{ssh_port}: the host is down or the path to it is cut")
        assert 1 <= elapsed < 1.8, elapsed  # one after the other would take 2 s or more


def test_the_reference_is_a_bare_connect_closed_at_once() -> None:
    """No banner is read and nothing is sent: the listener sees a connection, then EOF."""
    listener = socket.create_server((LOOP, 0))
    listener.settimeout(2)
    port = listener.getsockname()[1]
    try:
        assert knock(LOOP, port, 1) == Knock(port, "ok", "")
        conn, _ = listener.accept()
        conn.settimeout(2)
        with conn:
            assert conn.recv(64) == b""
    finally:
        listener.close()
    assert knock(LOOP, closed_port(), 1).connect == "refused"


def timed_out(port: int) -> Probe:
    p = Probe(port, "https", "198.51.100.7", "198.51.100.7", "/healthz")
    p.connect, p.connect_detail = "timeout", "connect timed out after 3 s"
    return p


@pytest.mark.parametrize(("reference", "outcome", "message"), [
    (Knock(22, "ok"), "fail", "port 7070: connect timed out after 3 s (filtered: a firewall "
     "drops the connection, while ssh.port 22 of this address accepts connections)"),
    (Knock(2222, "refused", "connection refused"), "fail", "port 7070: connect timed out "
     "after 3 s (filtered: a firewall drops the connection, while ssh.port 2222 of this "
     "address answers with a reset)"),
    (Knock(22, "timeout", "connect timed out after 3 s"), "error", "http: 198.51.100.7 is "
     "unreachable: connect to port(s) 7070 timed out (3 s), and so did the reference "
     "ssh.port 22: the host is down or the path to it is cut"),
    (Knock(22, "unreachable", "No route to host"), "error", "http: 198.51.100.7 is "
     "unreachable: connect to port(s) 7070 timed out (3 s), and the reference ssh.port 22 "
     "did not answer either (No route to host)"),
    (Knock(22, "error", "Permission denied"), "error", "http: 198.51.100.7 is unreachable: "
     "connect to port(s) 7070 timed out (3 s), and the reference ssh.port 22 did not answer "
     "either (Permission denied)"),
    (None, "error", "http: 198.51.100.7 is unreachable: connect to port(s) 7070 timed out "
     "(3 s; the host is down or every service port is filtered: the target has no ssh.port "
     "to tell which)"),
])
def test_the_decision_by_the_reference(reference: Knock | None, outcome: str,
                                       message: str) -> None:
    """Only an answer from the reference (connected or refused) makes a timeout a filtered
    port; anything else is the target being unreachable, one error, never a pass."""
    facts = HttpFacts("198.51.100.7", (timed_out(7070),), reference)
    entries = [entry(7070, scheme="https", connect_timeout=3)]
    out = decide("JADA-HTTP-01", facts, entries)
    assert (out.status, out.message) == (outcome, message)
    cert = decide("JADA-HTTP-02", facts, entries)
    assert cert.status == "error"
    if outcome == "error":
        assert cert.message == message


def test_plain_http_asked_for_tls_is_a_handshake_failure(server: type[Recorder]) -> None:
    out = judge("JADA-HTTP-01", [entry(server.port, scheme="https")])
    assert out.status == "fail", out
    assert f"port {server.port}: TLS handshake failed: " in out.message
    assert "WRONG_VERSION_NUMBER" in out.message or "wrong version" in out.message


def test_wrong_status_names_both(server: type[Recorder]) -> None:
    server.status = 503
    out = judge("JADA-HTTP-01", [entry(server.port)])
    assert out.status == "fail", out
    assert "answered 503 Service Unavailable, expected 200" in out.message


def test_over_budget_names_the_time_and_the_budget(server: type[Recorder]) -> None:
    server.delay = 0.3
    out = judge("JADA-HTTP-01", [entry(server.port, budget_ms=100)])
    assert out.status == "fail", out
    assert "answered 200 OK in " in out.message and "over the budget of 100 ms" in out.message
    ms = int(out.message.split(" in ")[1].split(" ms")[0])
    assert 300 <= ms < 2000, out.message


def test_no_answer_within_the_read_timeout_is_over_budget(server: type[Recorder]) -> None:
    server.delay = 1.5
    out = judge("JADA-HTTP-01", [entry(server.port, read_timeout=0.5)])
    assert out.status == "fail", out
    assert "no answer within the read timeout (0.5 s): over the budget of 1000 ms" in out.message


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """HTTPS on loopback with a certificate for 127.0.0.1 from a CA made here."""
    state = tmp_path_factory.mktemp("tls")
    root = state / "root"
    tls.make_ca(state, "probe-test")
    root.mkdir()
    tls.issue(state, root, "loop", LOOP, "valid")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(root / "etc/jada/tls/cert.pem", root / "etc/jada/tls/key.pem")
    handler = type("Handler", (Recorder,), {"seen": []})
    srv, port = serve(handler, ctx)
    yield port, tls.ca_file(state)
    srv.shutdown()
    srv.server_close()


def test_certificate_verifies_names_and_expiry(tls_server: tuple[int, Path]) -> None:
    port, ca = tls_server
    e = entry(port, scheme="https", ca_bundle=str(ca))
    assert judge("JADA-HTTP-01", [e]).status == "pass"
    out = judge("JADA-HTTP-02", [e])
    assert out.status == "pass", out
    assert f"verifies against the CA bundle {ca}, names '{LOOP}'" in out.message
    assert "subject CN=loop.jada-sandbox.test, O=jada-sandbox, issuer O=jada-sandbox, " \
           "CN=jada-sandbox probe-test CA, expires " in out.message
    assert "(89 days left)" in out.message or "(90 days left)" in out.message


def test_expiry_below_the_warning_passes_with_a_warning_and_below_the_fail_fails(
        tls_server: tuple[int, Path]) -> None:
    port, ca = tls_server
    warn = judge("JADA-HTTP-02", [entry(port, scheme="https", ca_bundle=str(ca),
                                        expiry_warn_days=100)])
    assert warn.status == "pass" and warn.message.startswith(
        f"warning: port {port}: the certificate expires in "), warn
    assert "days (< 100)" in warn.message
    bad = judge("JADA-HTTP-02", [entry(port, scheme="https", ca_bundle=str(ca),
                                       expiry_fail_days=100)])
    assert bad.status == "fail" and "days (< 100); subject CN=loop" in bad.message, bad


def test_system_cas_do_not_trust_a_private_ca_and_the_name_is_checked(
        tls_server: tuple[int, Path]) -> None:
    port, ca = tls_server
    untrusted = judge("JADA-HTTP-02", [entry(port, scheme="https")])
    assert untrusted.status == "fail", untrusted
    assert "does not verify against the system CAs for '127.0.0.1' (verify flags " \
           "VERIFY_X509_TRUSTED_FIRST): unable to get local issuer certificate; subject " \
           "CN=loop.jada-sandbox.test" in untrusted.message
    other = judge("JADA-HTTP-02", [entry(port, scheme="https", ca_bundle=str(ca),
                                         server_name="other.jada-sandbox.test")])
    assert other.status == "fail", other
    assert "for 'other.jada-sandbox.test' (verify flags VERIFY_X509_TRUSTED_FIRST): Hostname " \
           "mismatch, certificate is not valid for 'other.jada-sandbox.test'." in other.message
    # availability does not depend on trust: the service answers
    assert judge("JADA-HTTP-01", [entry(port, scheme="https")]).status == "pass"


def test_plain_http_ports_have_no_certificate(server: type[Recorder]) -> None:
    out = judge("JADA-HTTP-02", [entry(server.port)])
    assert out.status == "skipped" and "no https port" in out.message


def test_probe_records_only_the_address_it_was_given(server: type[Recorder]) -> None:
    p = probe(LOOP, entry(server.port, server_name="svc.example"))
    assert (p.address, p.server_name, p.connect, p.status) == (LOOP, "svc.example", "ok", 200)
    assert server.seen[0]["Host"] == f"svc.example:{server.port}"


def test_observed_values_carry_no_times() -> None:
    """Reports' drift sections compare observed values between runs: the time to answer
    and the days a certificate has left belong in the message only (a drift run on an
    unchanged host showed '53 ms -> 36 ms' as a change)."""
    from jada_checks.controls.http import cert_summary, port_state, with_days

    entry = {"budget_ms": 1000}
    fast, slow = (Probe(7070, "https", "10.0.0.1", "x", "/healthz", connect="ok", tls="ok",
                        answer="ok", status=200, reason="OK", elapsed_ms=ms)
                  for ms in (53.0, 36.0))
    assert port_state(fast, entry) == port_state(slow, entry) == "7070: 200 OK, within budget"
    slow.elapsed_ms = 1500.0
    assert port_state(slow, entry) == "7070: 200 OK, over budget"
    cert = {"subject": ((("commonName", "x"),),), "issuer": ((("commonName", "ca"),),),
            "notAfter": "Jan  1 00:00:00 2100 GMT"}
    today, tomorrow = (cert_summary(cert, t)[0] for t in (time.time(), time.time() + 86400))
    assert today == tomorrow and "days" not in today
    assert "days left)" in with_days(*cert_summary(cert, time.time()))
