"""A sandbox host's root logs in with Debian's stock dotfiles, not this machine's.

The hosts boot over an overlay of this machine's ``/``; without
``machines.stock_root_dotfiles`` a root login on a host would run this machine's
/root/.bashrc (here: pyenv and cargo set-up, about 0.1 s of CPU per login), which no real
Debian host has. This machine's /root must stay as it is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from jada_checks.sandbox.machines import stock_root_dotfiles
from tests.support.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("compliant")

HOME = Path("/root")
STOCK = Path("/usr/share/base-files")


def _digests() -> dict[str, str | None]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
            for p in sorted(HOME.iterdir()) if p.name.startswith(".") and not p.is_dir()}


# Taken at import, before this session's hosts boot (they boot once collection is done).
BEFORE = _digests()


def test_a_root_login_on_a_host_reads_the_stock_files(sandbox: SandboxHarness) -> None:
    out = sandbox.ssh("compliant", "cat /root/.bashrc; echo @@; cat /root/.profile; echo @@; "
                      "ls -A /root; echo @@; echo ${PYENV_ROOT-unset} $-")
    bashrc, profile, listing, env = out.split("@@\n")
    assert bashrc == (STOCK / "dot.bashrc").read_text()
    assert profile == (STOCK / "dot.profile").read_text()
    names = set(listing.split())
    assert {".bashrc", ".profile"} <= names
    assert not names & {".bash_profile", ".bash_login", ".bash_logout"}, names
    # the login's shell ran no pyenv set-up (this machine's .bashrc exports PYENV_ROOT)
    assert env.split()[0] == "unset", env


def test_this_machine_s_root_is_unchanged(sandbox: SandboxHarness) -> None:
    sandbox.ssh("compliant", "true")  # the hosts are up, and one was logged in to
    assert _digests() == BEFORE


def test_stock_files_replace_the_base_tree_s_own(tmp_path: Path) -> None:
    base = tmp_path / "usr/share/base-files"
    base.mkdir(parents=True)
    (base / "dot.bashrc").write_text("# stock bashrc\n")
    (base / "dot.profile").write_text("# stock profile\n")
    home = tmp_path / "root"
    home.mkdir()
    for name in (".bashrc", ".bash_profile", ".bash_login", ".bash_logout"):
        (home / name).write_text('eval "$(pyenv init -)"\n')
    (home / ".ssh").mkdir()
    stock_root_dotfiles(tmp_path)
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", ".profile", ".ssh"]
    assert (home / ".bashrc").read_text() == "# stock bashrc\n"
    assert (home / ".profile").read_text() == "# stock profile\n"
