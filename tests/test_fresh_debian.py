"""``make install`` on a pristine Debian 12, as a new user's first step, then the tools it
installed run.

The tree is ``debootstrap --variant=minbase bookworm`` plus git, make and ca-certificates
(built once, cached as /var/cache/jada-sandbox/debian-12-pristine), under a throwaway
overlay so the cache stays pristine. A copy of this checkout becomes a one-commit clone in
/root/jada-checks. ``systemd-nspawn`` (without ``--private-network``: apt, pip and npm
reach their registries as on a user's machine; a clean environment; Debian's default
PATH, on which no Python exists until apt installs /usr/bin/python3) runs ``make install``
there. What it shows: the venv is made from Debian's Python, nothing lands in the system
Python, Node 18 from Debian's npm is replaced by Node 20 from the npm registry under
.venv/node, and pytest, jada-checks, gitlab-ci-local (resolving the component templates)
and the demo's entry point run. The demo itself boots hosts with systemd-nspawn, which
cannot nest here; ``make demo`` runs on this machine.

Marker ``releases`` (``make test-releases``, which CI runs): the first build of the tree
and ``make install`` (apt, pip, npm from the network) take minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import jada_checks
from jada_checks.sandbox.bases import cached_tree
from tests.ci_run import checkout_copy

pytestmark = pytest.mark.releases
TREE = "debian-12-pristine"
ADDED = ("git", "make", "ca-certificates")
CLONE = "/root/jada-checks"
DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WORK = Path("/var/tmp")  # the overlay's upper layer must be on a real file system
GITLAB_CI_LOCAL = "4.73.0"
# This machine reaches the registries through a TLS-inspecting egress proxy: its CA lies in
# /usr/local/share/ca-certificates and these variables point pip (which otherwise trusts
# only its own certifi bundle) and Node at the system bundle. The tree gets the same trust,
# as a user behind that proxy would have it; nothing else of this machine goes in.
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
TRUST_ENV = ("PIP_CERT", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
             "CURL_CA_BUNDLE", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY",
             "HTTPS_PROXY", "NO_PROXY")


@dataclass
class Fresh:
    root: Path
    install: subprocess.CompletedProcess[str]
    seconds: float

    def run(self, command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``command`` (bash) inside the tree, in the clone, with Debian's default PATH."""
        return nspawn(self.root, ["bash", "-c", command], timeout=timeout)


def nspawn(root: Path, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    cmd = ["systemd-nspawn", "-q", "-D", str(root), "-M", f"jada-fresh-{os.getpid()}",
           "--register=no", "--keep-unit", "--as-pid2",
           "--link-journal=no", "--resolv-conf=copy-host", f"--chdir={CLONE}",
           f"--setenv=PATH={DEBIAN_PATH}", "--setenv=HOME=/root", "--setenv=LANG=C.UTF-8",
           *(f"--setenv={k}={os.environ[k]}" for k in TRUST_ENV if k in os.environ),
           "--", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def trust_like_this_machine(root: Path) -> None:
    for crt in LOCAL_CAS.glob("*.crt"):
        shutil.copy2(crt, root / "usr/local/share/ca-certificates" / crt.name)
    checked(nspawn(root, ["update-ca-certificates"], timeout=120))


def clone_into(root: Path) -> None:
    """This checkout (tracked and new files, as the other CI tests see it) as a fresh
    one-commit clone."""
    dest = root / CLONE.lstrip("/")
    shutil.copytree(checkout_copy(), dest)
    git = ["git", "-C", str(dest), "-c", "user.name=jada-test",
           "-c", "user.email=jada-test@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a fresh clone"], check=True)


@pytest.fixture(scope="module")
def fresh() -> Iterator[Fresh]:
    lower = cached_tree(TREE, "bookworm", ADDED)
    work = Path(WORK / f"jada-fresh-debian-{os.getpid()}")
    dirs = {name: work / name for name in ("upper", "work", "merged")}
    for path in dirs.values():
        path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={lower},upperdir={dirs['upper']},workdir={dirs['work']}",
                    str(dirs["merged"])], check=True)
    try:
        root = dirs["merged"]
        clone_into(root)
        trust_like_this_machine(root)
        started = time.monotonic()
        install = nspawn(root, ["make", "install"], timeout=1800)
        yield Fresh(root, install, time.monotonic() - started)
    finally:
        subprocess.run(["umount", str(dirs["merged"])], check=False)
        shutil.rmtree(work, ignore_errors=True)


def checked(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, f"{res.args[-1]}: exit {res.returncode}\n{res.stdout[-3000:]}" \
                                f"\n{res.stderr[-3000:]}"
    return res.stdout.strip()


def test_the_tree_starts_pristine() -> None:
    """No Python, no Node, no npm before make: the tree is minbase plus the three."""
    tree = cached_tree(TREE, "bookworm", ADDED)
    for path in ("usr/bin/python3", "usr/bin/node", "usr/bin/npm", "usr/bin/pip3"):
        assert not (tree / path).exists(), path
    for path in ("usr/bin/git", "usr/bin/make", "etc/ssl/certs/ca-certificates.crt"):
        assert (tree / path).exists(), path


def test_make_install_succeeds(fresh: Fresh) -> None:
    print(f"\nmake install on a pristine Debian 12: {fresh.seconds:.0f} s")
    checked(fresh.install)
    assert "apt: installing" in fresh.install.stdout  # python3, python3-venv, ... came from apt


def test_the_venv_is_debians_python_and_the_system_python_is_untouched(fresh: Fresh) -> None:
    checked(fresh.install)
    # every python* on Debian's PATH (/bin is /usr/bin's symlink) is Debian's one Python
    found = checked(fresh.run('for d in ${PATH//:/ }; do ls -d "$d"/python* 2>/dev/null; done '
                              "| xargs realpath -e | sort -u"))
    assert found == "/usr/bin/python3.11", found
    cfg = (fresh.root / CLONE.lstrip("/") / ".venv/pyvenv.cfg").read_text()
    assert "home = /usr/bin\n" in cfg, cfg
    system = fresh.run("/usr/bin/python3 -c 'import pytest'")
    assert system.returncode != 0 and "No module named 'pytest'" in system.stderr
    assert not list((fresh.root / "usr/local/lib").glob("python3*/dist-packages/*"))


def test_the_installed_tools_run(fresh: Fresh) -> None:
    checked(fresh.install)
    pins = dict(line.split("==") for line in
                (fresh.root / CLONE.lstrip("/") / "ci/constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert checked(fresh.run(".venv/bin/python -m pytest --version")) == \
        f"pytest {pins['pytest']}"
    assert checked(fresh.run(".venv/bin/jada-checks --version")) == \
        f"jada-checks {jada_checks.__version__}"
    assert "usage: jada-sandbox" in checked(fresh.run(".venv/bin/jada-sandbox --help"))
    # Debian's Node is 18; make put Node 20 from the npm registry first on its PATH
    assert checked(fresh.run("/usr/bin/node --version")).startswith("v18.")
    path = f"export PATH={CLONE}/.venv/node/bin:$PATH; "
    assert checked(fresh.run(path + "node --version")).startswith("v20.")
    assert checked(fresh.run(path + "gitlab-ci-local --version")) == GITLAB_CI_LOCAL


def test_gitlab_ci_local_resolves_the_components(fresh: Fresh) -> None:
    """The self-tests that run gitlab-ci-local on the templates pass in the tree (the
    tests find .venv/node/bin themselves, as `make test` would)."""
    checked(fresh.install)
    out = checked(fresh.run(".venv/bin/python -m pytest -p no:cacheprovider -q "
                            "tests/test_ci_gitlab_local.py -k include_together", timeout=600))
    assert "2 passed" in out, out


def test_the_demo_entry_point_imports(fresh: Fresh) -> None:
    checked(fresh.install)
    out = checked(fresh.run(".venv/bin/python -c 'import jada_checks.demo as d; "
                            "print(d.HOSTS[\"drifted\"])'"))
    assert out == f"{CLONE}/sandbox/hosts/drifted"
    assert checked(fresh.run("make -q install-demo; echo $?")) == "0", \
        "make install covers what make demo installs"
