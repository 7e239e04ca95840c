"""JADA-HTTP-02 reaches the same verdict on every runner's Python.

Python 3.13's ``ssl.create_default_context()`` adds VERIFY_X509_STRICT and
VERIFY_X509_PARTIAL_CHAIN (gh-107361); 3.11's does not. A CA certificate without the
keyUsage extension RFC 5280 4.2.1.3 requires is accepted by OpenSSL's default checks and
rejected by its strict ones ("CA cert does not include key usage extension"), so before
the probe set its flags itself the same server passed on 3.11 and failed on 3.13. Here a
real TLS server on loopback serves a certificate from such a CA; the probe module runs
under this interpreter and under a Python 3.13 (pyenv's, one on PATH, or the cached
Debian 13 tree's, under chroot), and under Node.js, the runtime of Claude Code's cli.js,
as the reference for what the default verdict must be.
"""

from __future__ import annotations

import glob
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jada_checks.controls import catalogue
from jada_checks.facts.http import probe_target
from jada_checks.facts.http_facts import HttpFacts
from jada_checks.inputs import fill_defaults, load_schema
from jada_checks.model import REGISTRY, Outcome
from jada_checks.sandbox import bases, tls
from tests.support.paths import REPO

catalogue()
LOOP = "127.0.0.1"
SCHEMA = load_schema("profile.schema.json")
CHECKS = REPO / "checks"
TREE = bases.CACHE / "debian-13"

# Run by another interpreter with only the package's source on its path: the probe
# module needs nothing but the standard library.
PROBE = """\
import json, sys
from jada_checks.facts.http import probe_target
entry = json.loads(sys.argv[1])
probes, _ = probe_target("127.0.0.1", [entry], None)
p = probes[0]
print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "tls": p.tls,
                  "verify": p.verify}))
"""


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def no_key_usage_ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """HTTPS on loopback, its certificate from a CA without keyUsage."""
    state = tmp_path_factory.mktemp("tls-no-ku")
    root = state / "root"
    root.mkdir()
    tls.make_ca(state, "no-key-usage", key_usage=False)
    tls.issue(state, root, "loop", LOOP, "valid")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(root / "etc/jada/tls/cert.pem", root / "etc/jada/tls/key.pem")
    srv = http.server.ThreadingHTTPServer((LOOP, 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # the CA file where a chroot can read it too
    ca = state / "ca.pem"
    shutil.copy(tls.ca_file(state), ca)
    yield srv.server_address[1], ca
    srv.shutdown()
    srv.server_close()


def entry(port: int, ca: Path, **kw: Any) -> dict[str, Any]:
    return fill_defaults({"port": port, "scheme": "https", "ca_bundle": str(ca),
                          "connect_timeout": 2, "read_timeout": 3, **kw},
                         SCHEMA["$defs"]["http_expect"], SCHEMA)


def judge(e: dict[str, Any]) -> Outcome:
    probes, knocked = probe_target(LOOP, [e], None)
    ctx = type("Ctx", (), {"http": HttpFacts(LOOP, tuple(probes), knocked),
                           "expect": {"http": [e]}})()
    return REGISTRY["JADA-HTTP-02"].check(ctx)  # type: ignore[arg-type]


def python313() -> tuple[list[str], dict[str, str], str]:
    """argv prefix, environment and a description of a Python 3.13 that can import the
    package's source; skip naming every place looked at when there is none."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(CHECKS),
           "PYTHONNOUSERSITE": "1"}
    candidates = [os.environ.get("JADA_PYTHON313", ""),
                  *sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python3")),
                  *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3"))),
                  shutil.which("python3.13") or ""]
    for exe in filter(None, candidates):
        res = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, env=env)
        if res.returncode == 0 and res.stdout.strip() == "(3, 13)":
            return [exe], env, exe
    if (TREE / "usr/bin/python3.13").exists() and shutil.which("unshare") \
            and os.geteuid() == 0:
        # The cached Debian 13 tree, unchanged: the package's source and the CA are bound
        # in, read-only, in a private mount namespace that ends with the command.
        script = ('mount --bind -o ro "$1" "$2/mnt" && mount --bind -o ro "$3" "$2/media" '
                  '&& shift 3 && exec chroot "$TREE" "$@"')
        return (["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                 str(CHECKS), str(TREE)],
                dict(env, PYTHONPATH="/mnt", TREE=str(TREE)), f"{TREE} (chroot)")
    pytest.skip("no Python 3.13: JADA_PYTHON313, ~/.pyenv/versions/3.13*, python3.13 on "
                f"PATH, {TREE}/usr/bin/python3.13")


def run_probe(prefix: list[str], env: dict[str, str], e: dict[str, Any],
              ca_dir: Path | None = None) -> dict[str, Any]:
    argv = list(prefix)
    if argv[0] == "unshare":  # the CA goes in at /media
        e = dict(e, ca_bundle="/media/" + Path(e["ca_bundle"]).name)
        argv += [str(ca_dir), "/usr/bin/python3.13"]
    res = subprocess.run([*argv, "-c", PROBE, json.dumps(e)], capture_output=True,
                         text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_this_runner_passes_it_with_the_flags_named(
        no_key_usage_ca: tuple[int, Path]) -> None:
    port, ca = no_key_usage_ca
    out = judge(entry(port, ca))
    assert out.status == "pass", out
    assert f"port {port}: verifies against the CA bundle {ca}, names '{LOOP}'" in out.message
    assert out.source.endswith("verify flags VERIFY_X509_TRUSTED_FIRST set by the suite, "
                               "not the runner's Python"), out.source
    assert "chain valid (verify flags VERIFY_X509_TRUSTED_FIRST)" in out.expected


def test_python_313_reaches_the_same_verdict(no_key_usage_ca: tuple[int, Path]) -> None:
    """Before the probe set its flags, 3.13's default context rejected this chain."""
    port, ca = no_key_usage_ca
    prefix, env, where = python313()
    got = run_probe(prefix, env, entry(port, ca), ca.parent)
    assert got == {"python": "3.13", "tls": "ok", "verify": None}, (where, got)
    mine = run_probe([sys.executable], env, entry(port, ca))
    assert mine["tls"] == "ok" and mine["verify"] is None, mine


def test_x509_strict_rejects_it_on_every_runner(no_key_usage_ca: tuple[int, Path]) -> None:
    """x509_strict: true verifies as Python 3.13+ clients do, on this runner too."""
    port, ca = no_key_usage_ca
    out = judge(entry(port, ca, x509_strict=True))
    assert out.status == "fail", out
    assert (f"port {port}: the certificate does not verify against the CA bundle {ca} for "
            f"'{LOOP}' (verify flags VERIFY_X509_TRUSTED_FIRST | VERIFY_X509_STRICT | "
            "VERIFY_X509_PARTIAL_CHAIN): CA cert does not include key usage extension"
            ) in out.message, out.message
    prefix, env, _ = python313()
    got = run_probe(prefix, env, entry(port, ca, x509_strict=True), ca.parent)
    assert got["verify"] == "CA cert does not include key usage extension", got


def test_node_verifies_as_the_default_does(no_key_usage_ca: tuple[int, Path]) -> None:
    """The default flags are the ones Node.js verifies with: it accepts this chain too."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH")
    port, ca = no_key_usage_ca
    script = ("const tls=require('tls'),fs=require('fs');"
              f"const s=tls.connect({{host:'{LOOP}',port:{port},ca:fs.readFileSync('{ca}')}},"
              "()=>{console.log(JSON.stringify({authorized:s.authorized}));s.end()});"
              "s.on('error',e=>{console.log(JSON.stringify({error:e.code||e.message}))});")
    res = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert json.loads(res.stdout.strip()) == {"authorized": True}, res.stdout + res.stderr
