"""The sandbox's own certificate authority and each host's server certificate.

``jada-sandbox up`` makes a CA per sandbox (key and certificate in the sandbox's state
directory, never in a host) and, for every host whose directory chain has a ``tls`` file,
a server certificate signed by it, laid into the host's root before boot as
``/etc/jada/tls/cert.pem`` and ``key.pem`` (owned by the service user ``jada``, mode 600).
The written profile names the CA as ``ca_bundle``. The ``tls`` file says which
certificate the host gets:

``valid``       names the host's address (iPAddress SAN) and ``<host>.jada-sandbox.test``,
                valid from 1 day ago for 90 days
``expired``     the same names, valid from 60 to 30 days ago (JADA-HTTP-02 fails)
``wrong-name``  valid, but names only ``wrong-host.jada-sandbox.test`` (no address)

Made with the ``openssl`` command line (``openssl ca`` takes explicit start and end dates,
which an expired certificate needs), so the sandbox needs no Python crypto package.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jada_checks import processes
from jada_checks.sandbox.machines import SandboxError

KINDS = ("valid", "expired", "wrong-name")
DOMAIN = "jada-sandbox.test"
CA_DAYS = 3650


def _openssl(*args: str, cwd: Path | None = None) -> None:
    res = processes.run(["openssl", *args], capture_output=True, text=True, cwd=cwd)
    if res.returncode != 0:
        raise SandboxError(f"openssl {args[0]}: {res.stderr.strip()[-300:]}")


def make_ca(state: Path, sandbox: str, key_usage: bool = True) -> Path:
    """The sandbox's CA in ``state/tls``; returns the CA certificate's path.

    ``key_usage=False`` leaves out the CA's keyUsage extension: RFC 5280 (4.2.1.3) says a
    CA certificate MUST have one, OpenSSL checks it only under VERIFY_X509_STRICT, which
    Python 3.13's default context sets and 3.11's does not (tests/facts/test_http_verify_flags.py).
    """
    d = state / "tls"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in d.iterdir():
        old.unlink()
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", str(CA_DAYS),
             "-subj", f"/O=jada-sandbox/CN=jada-sandbox {sandbox} CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             *(("-addext", "keyUsage=critical,keyCertSign,cRLSign") if key_usage else ()))
    os.chmod(d / "ca.key", 0o600)
    return d / "ca.pem"


def ca_file(state: Path) -> Path:
    return state / "tls" / "ca.pem"


def kind_of(chain: tuple[Path, ...]) -> str | None:
    """The nearest ``tls`` file's word, or None when no directory of the chain has one."""
    for d in reversed(chain):
        path = d / "tls"
        if path.is_file():
            words = [w for line in path.read_text().splitlines()
                     for w in line.split("#", 1)[0].split()]
            word = " ".join(words)
            if word not in KINDS:
                raise SandboxError(f"{path}: expected one of {', '.join(KINDS)}, got {word!r}")
            return word
    return None


def _stamp(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%SZ")


def issue(state: Path, root: Path, host: str, address: str, kind: str) -> None:
    """Sign a server certificate of ``kind`` for ``host`` and lay it into ``root``."""
    ca = state / "tls"
    now = datetime.now(UTC)
    start, end = now - timedelta(days=1), now + timedelta(days=90)
    names = f"DNS:{host}.{DOMAIN},IP:{address}"
    if kind == "expired":
        start, end = now - timedelta(days=60), now - timedelta(days=30)
    elif kind == "wrong-name":
        names = f"DNS:wrong-host.{DOMAIN}"
    out = root / "etc/jada/tls"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jada-tls-") as tmp:
        work = Path(tmp)
        (work / "index.txt").write_text("")
        (work / "serial").write_text(os.urandom(8).hex() + "\n")
        (work / "ca.cnf").write_text(
            "[ca]\ndefault_ca = sandbox\n[sandbox]\ndatabase = index.txt\nnew_certs_dir = .\n"
            "serial = serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
            "[any]\ncommonName = supplied\norganizationName = optional\n")
        (work / "ext.cnf").write_text(
            f"basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
            f"extendedKeyUsage = serverAuth\nsubjectAltName = {names}\n")
        cn = f"wrong-host.{DOMAIN}" if kind == "wrong-name" else f"{host}.{DOMAIN}"
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", "key.pem", "-out", "req.csr",
                 "-subj", f"/O=jada-sandbox/CN={cn}", cwd=work)
        _openssl("ca", "-batch", "-config", "ca.cnf", "-cert", str(ca / "ca.pem"),
                 "-keyfile", str(ca / "ca.key"), "-in", "req.csr", "-out", "cert.pem",
                 "-notext", "-startdate", _stamp(start), "-enddate", _stamp(end),
                 "-extfile", "ext.cnf", cwd=work)
        (out / "cert.pem").write_bytes((work / "cert.pem").read_bytes())
        (out / "key.pem").write_bytes((work / "key.pem").read_bytes())
    uid, gid = _service_ids(root)
    for name, mode in (("cert.pem", 0o644), ("key.pem", 0o600)):
        os.chmod(out / name, mode)
        os.chown(out / name, uid, gid)


def _service_ids(root: Path) -> tuple[int, int]:
    """uid and gid of ``jada`` in the host's passwd (written by systemd-sysusers --root
    before this runs), else root's: the key must be readable by whoever runs the agent."""
    passwd = root / "etc/passwd"
    for line in passwd.read_text().splitlines() if passwd.is_file() else []:
        f = line.split(":")
        if len(f) >= 4 and f[0] == "jada":
            return int(f[2]), int(f[3])
    return 0, 0
