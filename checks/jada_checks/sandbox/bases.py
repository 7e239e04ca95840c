"""Base trees for sandbox hosts: this machine's own root, or another Debian release.

A host is an overlay whose lower layer is its base. The default base is ``/`` (this
machine, Debian 12). ``debian-11`` and ``debian-13`` are trees that debootstrap builds
once from the Debian mirror apt is already configured with, cached under
``/var/cache/jada-sandbox/<release>`` so later boots take seconds. Each tree has what a
real server of that release has for the suite to look at: systemd, OpenSSH, sudo,
iproute2, procps, util-linux and python3 (the sandbox's test agent).
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
from pathlib import Path

from jada_checks import processes
from jada_checks.sandbox.cache import CACHE
from jada_checks.sandbox.machines import SandboxError

HOST_BASE = "host"
RELEASES = {"debian-11": "bullseye", "debian-12": "bookworm", "debian-13": "trixie"}
PACKAGES = ("systemd", "systemd-sysv", "dbus", "libpam-systemd", "openssh-server", "sudo",
            "iproute2", "procps", "util-linux", "python3")
BUILD_TIMEOUT = 1500.0
_COMPLETE = ".jada-base-complete"


def choices() -> list[str]:
    return [HOST_BASE, *RELEASES]


def lower_dir(base: str | None) -> Path:
    """The overlay lower layer for ``base``, building and caching it when needed."""
    if base in (None, HOST_BASE):
        return Path("/")
    if base not in RELEASES:
        raise SandboxError(f"base {base!r}: expected one of {', '.join(choices())}")
    return cached_tree(base, RELEASES[base], PACKAGES)


def cached_tree(name: str, suite: str, packages: tuple[str, ...]) -> Path:
    """``/var/cache/jada-sandbox/<name>``: a minbase tree of ``suite`` plus ``packages``,
    built once (the self-test of a pristine Debian 12 uses one with only git, make and
    ca-certificates added)."""
    tree = CACHE / name
    if (tree / _COMPLETE).exists():
        return tree
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "a") as lock:  # two sandboxes build a tree once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tree / _COMPLETE).exists():
            _build(name, suite, packages, tree)
    return tree


def _build(base: str, suite: str, packages: tuple[str, ...], tree: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise SandboxError(f"base {base}: debootstrap is not installed (apt-get install "
                           "debootstrap)")
    mirror = apt_mirror()
    tmp = tree.with_name(tree.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
           suite, str(tmp), mirror]
    log = CACHE / f"{base}.debootstrap.log"
    try:
        with open(log, "wb") as out:
            res = processes.run(cmd, stdout=out, stderr=subprocess.STDOUT,
                                timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SandboxError(f"base {base}: debootstrap did not finish within "
                           f"{BUILD_TIMEOUT:.0f} s; see {log}") from None
    if res.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise SandboxError(f"base {base}: debootstrap exited {res.returncode}: "
                           f"{' / '.join(tail)}; see {log}")
    # A fresh tree has no machine-id; systemd would treat the first boot as "firstboot".
    (tmp / "etc/machine-id").write_text("")
    (tmp / _COMPLETE).write_text(f"{suite} from {mirror}\n")
    shutil.rmtree(tree, ignore_errors=True)
    tmp.rename(tree)


def apt_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The Debian archive URI that this machine's apt already uses (deb822 .sources files
    or sources.list), so the sandbox reaches exactly what apt reaches."""
    candidates: list[tuple[str, str]] = []
    for f in sorted((sources / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", f.read_text(errors="replace")):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.+)$", stanza, re.M))
            if "deb" in fields.get("Types", "").split() and "URIs" in fields:
                candidates += [(uri, fields.get("Suites", "")) for uri in fields["URIs"].split()]
    lists = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*.list"))]
    for f in lists:
        if f.is_file():
            for line in f.read_text(errors="replace").splitlines():
                m = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m:
                    candidates.append((m.group(1), m.group(2)))
    for uri, suites in candidates:
        if "security" not in uri and not any(s.endswith("-security") for s in suites.split()):
            return uri
    raise SandboxError(f"no Debian archive found in {sources}/sources.list(.d): the other "
                       "releases are built from the mirror apt uses")
