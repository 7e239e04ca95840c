"""``make demo`` and ``make install`` on a pristine Debian 12, as a new user's first steps.

The tree is ``debootstrap --variant=minbase bookworm`` plus git, make and ca-certificates
(built once, cached as /var/cache/jada-sandbox/debian-12-pristine); each check gets its
own throwaway overlay of it, so the cache stays pristine. A copy of this checkout becomes
a one-commit clone in /root/jada-checks. The commands run chrooted into the tree, with a
clean environment and Debian's default PATH, on which no Python exists until apt installs
/usr/bin/python3. A chroot, not systemd-nspawn: ``make demo`` boots its hosts with
systemd-nspawn over the tree's own ``/``, which a container cannot nest. The chroot
shares this machine's network (apt, pip and npm reach their registries as on a user's
machine), /proc, /sys and /dev, and /var/tmp (the sandbox's machine-wide address leases).

- One tree runs ``make demo`` alone: ``make install-demo`` brings only the demo's
  packages, then the demo boots ``compliant`` and ``drifted`` and its own check passes
  (``DEMO OK``).
- Another runs ``make install``: the venv is made from Debian's Python, nothing lands in
  the system Python, Node 18 from Debian's npm gives way to Node 20 from the npm registry
  under .venv/node, and pytest, jada-checks, jada-sandbox and gitlab-ci-local (resolving
  the component templates through the self-tests) run.

Marker ``releases`` (``make test-releases``, which CI runs): the first build of the tree
and the installs (apt, pip, npm from the network) take minutes.
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
from tests.support.ci_support import REPO

pytestmark = pytest.mark.releases
TREE = "debian-12-pristine"
ADDED = ("git", "make", "ca-certificates")
CLONE = "/root/jada-checks"
DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WORK = Path("/var/tmp")  # an overlay's upper layer must be on a real file system
GITLAB_CI_LOCAL = "4.73.0"
TEST_ONLY_PACKAGES = ("chromium", "shellcheck", "rsync", "nftables", "npm", "nodejs", "sudo",
                      "prometheus-node-exporter", "prometheus-pushgateway")
# This machine reaches the registries through a TLS-inspecting egress proxy: its CA lies in
# /usr/local/share/ca-certificates and these variables point pip (which otherwise trusts
# only its own certifi bundle) and Node at the system bundle. The tree gets the same trust,
# as a user behind that proxy would have it; nothing else of this machine goes in.
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
TRUST_ENV = ("PIP_CERT", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
             "CURL_CA_BUNDLE", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY",
             "HTTPS_PROXY", "NO_PROXY")


@dataclass
class Tree:
    """A throwaway overlay of the pristine tree, chrooted into with this machine's
    kernel interfaces bound in."""

    work: Path

    @property
    def root(self) -> Path:
        return self.work / "merged"

    @property
    def clone(self) -> Path:
        return self.root / CLONE.lstrip("/")

    def run(self, command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``command`` (bash) in the clone, in a clean environment with Debian's PATH."""
        env = {"PATH": DEBIAN_PATH, "HOME": "/root", "LANG": "C.UTF-8",
               "JADA_SANDBOX_DIR": str(self.work / "sandbox"),
               **{k: os.environ[k] for k in TRUST_ENV if k in os.environ}}
        return subprocess.run(["chroot", str(self.root), "bash", "-c",
                               f"cd {CLONE} && {command}"], env=env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def timed(self, command: str, timeout: float) -> tuple[subprocess.CompletedProcess[str],
                                                            float]:
        started = time.monotonic()
        res = self.run(command, timeout)
        return res, time.monotonic() - started


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pristine() -> Path:
    return cached_tree(TREE, "bookworm", ADDED)


def checkout_into(dest: Path) -> None:
    """This checkout (tracked and new files, symlinks as links, nothing ignored) as a
    fresh one-commit clone."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src, dst = REPO / name, dest / name
        if not src.is_symlink() and not src.is_file():
            continue  # deleted in the work tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dst)
    git = ["git", "-C", str(dest), "-c", "user.name=jada-test",
           "-c", "user.email=jada-test@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a fresh clone"], check=True)


@pytest.fixture
def tree(pristine: Path, tmp_path: Path) -> Iterator[Tree]:
    work = WORK / f"jada-fresh-debian-{os.getpid()}-{tmp_path.name}"
    t = Tree(work)
    for sub in ("upper", "work", "merged", "sandbox"):
        (work / sub).mkdir(parents=True)
    try:
        mount("-t", "overlay", "overlay", "-o",
              f"lowerdir={pristine},upperdir={work}/upper,workdir={work}/work", str(t.root))
        for path in ("proc", "sys", "dev"):
            mount("--rbind", f"/{path}", str(t.root / path))
            mount("--make-rslave", str(t.root / path))
        mount("-t", "tmpfs", "tmpfs", str(t.root / "run"))
        mount("--bind", str(WORK), str(t.root / WORK.relative_to("/")))
        shutil.copy2("/etc/resolv.conf", t.root / "etc/resolv.conf")
        # a chroot shares this machine's network and processes: no package may start its
        # service in it (the Debian convention for chroots, invoke-rc.d's policy hook)
        policy = t.root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        for crt in LOCAL_CAS.glob("*.crt"):
            shutil.copy2(crt, t.root / LOCAL_CAS.relative_to("/") / crt.name)
        checkout_into(t.clone)
        checked(t.run("update-ca-certificates >/dev/null", timeout=120))
        yield t
    finally:
        t.run("make down", timeout=120)
        subprocess.run(["umount", "-R", str(t.root)], capture_output=True)
        left = [ln.split()[1] for ln in Path("/proc/mounts").read_text().splitlines()
                if ln.split()[1].startswith(str(work))]
        assert not left, f"still mounted, {work} kept: {left}"
        shutil.rmtree(work)


def checked(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, f"{res.args[-1]}: exit {res.returncode}\n{res.stdout[-3000:]}" \
                                f"\n{res.stderr[-3000:]}"
    return res.stdout.strip()


def installed(tree: Tree, packages: tuple[str, ...]) -> set[str]:
    out = tree.run("dpkg-query -W -f='${Package} ${Status}\\n' " + " ".join(packages))
    return {line.split()[0] for line in out.stdout.splitlines() if line.endswith(" installed")}


def test_the_tree_starts_pristine(pristine: Path) -> None:
    """No Python, no Node, no npm before make: the tree is minbase plus the three."""
    for path in ("usr/bin/python3", "usr/bin/node", "usr/bin/npm", "usr/bin/pip3"):
        assert not (pristine / path).exists(), path
    for path in ("usr/bin/git", "usr/bin/make", "etc/ssl/certs/ca-certificates.crt"):
        assert (pristine / path).exists(), path


def test_make_demo_on_a_pristine_debian(tree: Tree) -> None:
    """make demo installs only what the demo needs, and the demo's own check passes."""
    install, install_s = tree.timed("make install-demo", timeout=1800)
    checked(install)
    demo, demo_s = tree.timed("make demo", timeout=900)
    print(f"\npristine Debian 12: make install-demo {install_s:.0f} s, make demo {demo_s:.0f} s")
    assert "DEMO OK: compliant passed every control" in checked(demo), demo.stdout[-3000:]
    assert installed(tree, TEST_ONLY_PACKAGES) == set()
    assert not list(tree.clone.glob(".venv/lib/python3*/site-packages/hypothesis"))
    assert not (tree.clone / ".venv/node").exists()


def test_make_install_on_a_pristine_debian(tree: Tree) -> None:
    install, seconds = tree.timed("make install", timeout=2400)
    print(f"\npristine Debian 12: make install {seconds:.0f} s")
    checked(install)
    assert "apt: installing python3 python3-venv" in install.stdout

    # the venv is Debian's Python's; the system Python got nothing
    found = checked(tree.run('for d in ${PATH//:/ }; do ls -d "$d"/python* 2>/dev/null; '
                             "done | xargs realpath -e | sort -u"))
    assert found == "/usr/bin/python3.11", found  # /bin is /usr/bin's symlink
    cfg = (tree.clone / ".venv/pyvenv.cfg").read_text()
    assert "home = /usr/bin\n" in cfg, cfg
    system = tree.run("/usr/bin/python3 -c 'import pytest'")
    assert system.returncode == 1 and "No module named 'pytest'" in system.stderr
    assert not list((tree.root / "usr/local/lib").glob("python3*/dist-packages/*"))

    # the tools it installed run, at the pinned versions
    pins = dict(line.split("==") for line in
                (tree.clone / "ci/constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert checked(tree.run(".venv/bin/python -m pytest --version")) == \
        f"pytest {pins['pytest']}"
    assert checked(tree.run(".venv/bin/jada-checks --version")) == \
        f"jada-checks {jada_checks.__version__}"
    assert "usage: jada-sandbox" in checked(tree.run(".venv/bin/jada-sandbox --help"))
    # Debian's Node is 18; make put Node 20 from the npm registry first on its PATH
    assert checked(tree.run("/usr/bin/node --version")).startswith("v18.")
    path = f"export PATH={CLONE}/.venv/node/bin:$PATH; "
    assert checked(tree.run(path + "node --version")).startswith("v20.")
    assert checked(tree.run(path + "gitlab-ci-local --version")) == GITLAB_CI_LOCAL
    # the self-tests that run gitlab-ci-local on the templates pass (they find
    # .venv/node/bin themselves, as under make test)
    out = checked(tree.run(".venv/bin/python -m pytest -p no:cacheprovider -q "
                           "tests/ci/test_gitlab_local.py -k include_together", timeout=600))
    assert "2 passed" in out, out
    assert checked(tree.run("make -q install-demo; echo $?")) == "0", \
        "make install covers make demo's needs"
