"""The real Claude Code for a sandbox host, fetched once from the npm registry and cached.

A host directory with a ``claude-code`` file (one line: a version, e.g. ``2.1.332``) runs
the real native binary instead of the stand-in. The tree is built as ``npm install -g
@anthropic-ai/claude-code`` lays it out, without running any package script:
``npm pack`` fetches the wrapper package and the platform package (``-linux-x64`` or
``-linux-arm64``, glibc), both are unpacked under ``lib/node_modules/@anthropic-ai/``,
and the platform's ``claude`` is linked over the wrapper's ``bin/claude.exe`` as the
package's postinstall does (install.cjs, ``placeBinary``: a hard link, else a copy). The
tree is cached under ``/var/cache/jada-sandbox/claude-code/<version>`` (like the Debian
trees, :mod:`bases`), so the 400 MB binary is fetched once per version; the host sees it
through the overlay's lower layer (this machine's ``/``) and links its
``/usr/local/lib/node_modules/@anthropic-ai/`` packages to it.

Where the registry cannot be reached the host boots with the stand-in and the file
``/etc/jada/claude-code.unavailable`` saying why; the self-test that needs the real
binary skips with that reason.
"""

from __future__ import annotations

import fcntl
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from jada_checks import processes
from jada_checks.sandbox.cache import CACHE

PACKAGE = "@anthropic-ai/claude-code"
SCOPE = "lib/node_modules/@anthropic-ai"
UNAVAILABLE = "etc/jada/claude-code.unavailable"
PACK_TIMEOUT = 600.0
_COMPLETE = ".jada-complete"


class Unavailable(Exception):
    """The real package cannot be had here; the message says why."""


def platform_package(machine: str | None = None) -> str:
    """The platform package npm's optionalDependencies pick on this machine (glibc)."""
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(machine or platform.machine())
    if arch is None:
        raise Unavailable(f"no Claude Code platform package for {machine or platform.machine()}")
    return f"{PACKAGE}-linux-{arch}"


def tree(version: str) -> Path:
    """The cached install tree of ``version``, fetching it once (exclusive across sandboxes)."""
    root = CACHE / "claude-code" / version
    if (root / _COMPLETE).exists():
        return root
    if shutil.which("npm") is None:
        raise Unavailable("npm is not installed, so the registry cannot be asked")
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{version}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / _COMPLETE).exists():
            _build(version, root)
    return root


def _pack(spec: str, dest: Path) -> Path:
    try:
        res = processes.run(["npm", "pack", "--silent", "--pack-destination", str(dest), spec],
                            capture_output=True, text=True, timeout=PACK_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"npm pack {spec} did not finish within {PACK_TIMEOUT:.0f} s") \
            from None
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["(no output)"])[-1][:300]
        raise Unavailable(f"npm pack {spec} exited {res.returncode}: {last}")
    return dest / res.stdout.strip().splitlines()[-1]


def _unpack(tgz: Path, into: Path) -> None:
    """A package tarball's ``package/`` directory becomes ``into`` (no links, no escapes)."""
    with tarfile.open(tgz) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        for m in members:
            if not m.name.startswith("package/") or ".." in Path(m.name).parts:
                raise Unavailable(f"{tgz.name}: unexpected member {m.name[:80]!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into.parent / ".unpack", members=members, filter="data")
        else:  # a Python without extraction filters: the members were checked above
            tar.extractall(into.parent / ".unpack", members=members)
    (into.parent / ".unpack" / "package").rename(into)
    (into.parent / ".unpack").rmdir()


def _build(version: str, root: Path) -> None:
    building = root.with_name(root.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    scope = building / SCOPE
    scope.mkdir(parents=True)
    plat = platform_package()
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        for spec in (f"{PACKAGE}@{version}", f"{plat}@{version}"):
            _unpack(_pack(spec, Path(tmp)), scope / spec.rsplit("@", 1)[0].split("/")[1])
    native = scope / plat.split("/")[1] / "claude"
    dest = scope / "claude-code/bin/claude.exe"
    if not native.is_file():
        raise Unavailable(f"{plat}@{version} has no claude binary")
    dest.unlink()  # the placeholder script the package ships
    try:
        os.link(native, dest)
    except OSError:
        shutil.copy2(native, dest)
    for path in (native, dest):
        path.chmod(0o755)
    (building / _COMPLETE).write_text(f"{PACKAGE}@{version} and {plat}@{version}\n")
    shutil.rmtree(root, ignore_errors=True)
    building.rename(root)


def install(host_root: Path, version: str) -> str | None:
    """Link the real packages into a host's root (over the stand-in); None when done, else
    the reason it could not be, also written to the host's ``/etc/jada/claude-code.unavailable``."""
    try:
        cached = tree(version) / SCOPE
        plat = platform_package().split("/")[1]
    except (Unavailable, OSError, tarfile.TarError) as exc:
        note = host_root / UNAVAILABLE
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(f"Claude Code {version} is not available: {exc}\n")
        return str(exc)
    scope = host_root / "usr/local" / SCOPE
    scope.mkdir(parents=True, exist_ok=True)
    for name in ("claude-code", plat):
        link = scope / name
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        link.symlink_to(cached / name)
    return None
