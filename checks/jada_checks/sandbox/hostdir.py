"""Host directories: what a sandbox host is made of, with single-parent inheritance.

A host directory holds ``rootfs/`` (copied over the host's root before boot), optional
``sysctl.runtime`` (``key = value`` lines applied after boot, not persisted),
``started-by-hand`` (unit names started after boot with ``systemctl start``, as an operator
would: nothing starts them at the next boot),
``lightsail.json`` (the instance record the local endpoint serves), ``expect.yaml``
(per-target expectation overrides), ``prepare.sh`` (run before boot with the host's root
as working directory, for modes, owners and links git cannot carry), ``ssh-users`` (one
user name a line: non-root users, from the host's sysusers.d, that get the sandbox key,
for least-privilege runs), ``tls`` (which server certificate the host gets from the
sandbox's CA: ``sandbox/tls.py``), ``claude-code`` (a version: the host runs the real
Claude Code of that version from the npm registry, ``sandbox/claude_code.py``),
``bastion`` (the name of another host of the same sandbox that alone may reach this one's
SSH port: ``sandbox/bastion.py``) and ``inherits`` (the relative path of a parent
directory, applied first).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_UNIT_NAME = re.compile(r"[A-Za-z0-9:_.@-]{1,200}\.(service|target|socket|timer)")
_HOST_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")


class HostDirError(Exception):
    """A malformed host directory; the message names the file."""


@dataclass(frozen=True)
class HostDir:
    name: str
    chain: tuple[Path, ...]  # root-most parent first, the directory itself last

    @property
    def rootfs_layers(self) -> list[Path]:
        return [d / "rootfs" for d in self.chain if (d / "rootfs").is_dir()]

    @property
    def prepare_scripts(self) -> list[Path]:
        return [d / "prepare.sh" for d in self.chain if (d / "prepare.sh").is_file()]

    def _names(self, filename: str, valid: Callable[[str], bool], what: str) -> list[str]:
        """The names of the whole chain's ``filename`` files (one a line, ``#`` comments),
        in order, without repeats; a name ``valid`` refuses is an error naming file:line."""
        names: list[str] = []
        for d in self.chain:
            path = d / filename
            if not path.is_file():
                continue
            for n, raw in enumerate(path.read_text().splitlines(), 1):
                name = raw.split("#", 1)[0].strip()
                if not name:
                    continue
                if not valid(name):
                    raise HostDirError(f"{path}:{n}: {name!r} is not {what}")
                if name not in names:
                    names.append(name)
        return names

    @property
    def ssh_users(self) -> list[str]:
        """Users of the whole chain's ``ssh-users`` files, in order, without repeats."""
        return self._names("ssh-users",
                           lambda name: bool(_USER_NAME.fullmatch(name)) and name != "root",
                           "a non-root user name")

    @property
    def claude_code(self) -> str | None:
        """The real Claude Code version the host runs (nearest ``claude-code`` file)."""
        path = self.nearest("claude-code")
        if path is None:
            return None
        text = path.read_text().split("#", 1)[0].strip()
        if not _VERSION.fullmatch(text):
            raise HostDirError(f"{path}: expected a version such as 2.1.332, got {text[:40]!r}")
        return text

    @property
    def bastion(self) -> str | None:
        """The sandbox host (by name) through which alone this host's SSH is reachable."""
        path = self.nearest("bastion")
        if path is None:
            return None
        name = path.read_text().split("#", 1)[0].strip()
        if not _HOST_NAME.fullmatch(name):
            raise HostDirError(f"{path}: {name!r} is not a sandbox host name")
        if name == self.name:
            raise HostDirError(f"{path}: a host cannot be its own bastion")
        return name

    def nearest(self, filename: str) -> Path | None:
        for d in reversed(self.chain):
            if (d / filename).is_file():
                return d / filename
        return None

    def runtime_sysctls(self) -> dict[str, str]:
        """Merged ``sysctl.runtime`` of the chain (a child's value overrides its parent's)."""
        values: dict[str, str] = {}
        for d in self.chain:
            path = d / "sysctl.runtime"
            if path.is_file():
                values.update(parse_runtime_sysctls(path))
        return values

    def started_by_hand(self) -> list[str]:
        """Units of the chain's ``started-by-hand`` files, in order, without repeats."""
        return self._names("started-by-hand", lambda name: bool(_UNIT_NAME.fullmatch(name)),
                           "a unit name")

    def expect(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for d in self.chain:
            path = d / "expect.yaml"
            if path.is_file():
                data = yaml.safe_load(path.read_text()) or {}
                if not isinstance(data, dict):
                    raise HostDirError(f"{path}: expected a mapping of expectations")
                merged.update(data)
        return merged


def parse_runtime_sysctls(path: Path) -> dict[str, str]:
    values = {}
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise HostDirError(f"{path}:{n}: expected 'key = value'")
        key = key.strip().replace("/", ".")
        if not key.startswith("net."):
            raise HostDirError(f"{path}:{n}: only net.* sysctls are per host (network "
                               f"namespace); {key} would change the whole machine")
        values[key] = value.strip()
    return values


def load_hostdir(name: str, path: str | Path) -> HostDir:
    """Resolve ``path`` and its ``inherits`` chain; refuse loops and missing parents."""
    chain: list[Path] = []
    current: Path | None = Path(path).resolve()
    while current is not None:
        if not current.is_dir():
            raise HostDirError(f"host directory {current} does not exist")
        if current in chain:
            raise HostDirError(f"{current}/inherits: inheritance loop")
        chain.append(current)
        parent_file = current / "inherits"
        current = (current / parent_file.read_text().strip()).resolve() \
            if parent_file.is_file() else None
    return HostDir(name, tuple(reversed(chain)))
