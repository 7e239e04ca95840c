"""docs/architecture.md "Adding a control", followed to the letter for a toy control in a
copy of the tree: with the places the document lists, the copy's guarding self-tests pass;
without the docs row, they fail naming it. If a control ever needs one more place, this
test fails, and the document must say so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jada_checks.catalogue_table import DOCS_URL
from tests.support.paths import REPO

TOY = '''
from jada_checks.context import CheckContext
from jada_checks.facts import host_facts as hf
from jada_checks.facts.probes import probe
from jada_checks.model import Outcome, control, failed, passed

probe("toy_hostname", "cat /etc/hostname")


@control(
    "JADA-TOY-01",
    title="The host has a name",
    severity="low",
    side="host",
    rationale="hostname(5): /etc/hostname holds the static host name.",
    remediation="hostnamectl set-hostname NAME",
    fix="hostnamectl set-hostname {unit}-host",
)
def toy_name(ctx: CheckContext) -> Outcome:
    name = hf.root_section(ctx, "toy_hostname").out.strip()
    if not name:
        return failed("/etc/hostname is empty", observed="(empty)", expected="a name",
                      source="/etc/hostname")
    return passed(f"the host is {name}", observed=name, expected="a name",
                  source="/etc/hostname")
'''
PURE_GOOD = '    "unit_show": SHOW,\n'
PURE_CASE = '    cases = {\n'
FAULT_ROW = "FAULTS: dict[str, tuple[str, tuple[str, ...]]] = {\n"
DOCS_ROW = ("| JADA-TOY-01 | low | /etc/hostname is not empty | /etc/hostname | hostname(5) |\n")
GUARDS = ["tests/test_docs.py", "tests/test_remediation.py",
          "tests/controls/test_host_controls_pure.py",
          "tests/controls/test_host_controls.py::test_every_fault_dir_is_covered"]


def tree_copy(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / name.decode()
        if src.is_file() and not src.is_symlink():
            target = dest / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(src.read_bytes())
            target.chmod(src.stat().st_mode)
    return dest


def edit(path: Path, anchor: str, addition: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert anchor in text, (path, anchor)
    path.write_text(text.replace(anchor, anchor + addition, 1), encoding="utf-8")


def run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(copy / "checks"))
    env.pop("JADA_PROFILE", None)
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=600)


def add_toy_control(copy: Path, *, docs_row: bool) -> None:
    # 1. the control
    (copy / "checks/jada_checks/controls/toy.py").write_text(TOY, encoding="utf-8")
    # 2. its fault host
    host = copy / "sandbox/hosts/toy-01-no-name"
    (host / "rootfs/etc").mkdir(parents=True)
    (host / "inherits").write_text("../compliant\n")
    (host / "rootfs/etc/hostname").write_text("")
    # 3. its test: the fact case and the fault host's row
    pure = copy / "tests/controls/test_host_controls_pure.py"
    edit(pure, PURE_GOOD, '    "toy_hostname": "toy\\n",\n')
    edit(pure, PURE_CASE, '        "JADA-TOY-01": {"toy_hostname": ""},\n')
    edit(copy / "tests/controls/test_host_controls.py", FAULT_ROW,
         '    "toy-01-no-name": ("JADA-TOY-01", ("/etc/hostname is empty",)),\n')
    # then its docs row, and make docs
    if docs_row:
        edit(copy / "docs/host-controls.md", "|----|------|----------------|---------------|"
             "---------|\n", DOCS_ROW)
    res = run(copy, "-m", "jada_checks.catalogue_table", "README.md")
    assert res.returncode == 0, res.stderr


def test_the_documented_places_are_enough(tmp_path: Path) -> None:
    copy = tree_copy(tmp_path / "tree")
    add_toy_control(copy, docs_row=True)
    where = run(copy, "-c", "import jada_checks; print(jada_checks.__file__)")
    assert where.stdout.strip().startswith(str(copy)), where  # the copy, not the checkout
    listed = run(copy, "-m", "pytest", "--jada-list-controls", "-p", "no:cacheprovider")
    assert "JADA-TOY-01" in listed.stdout, listed.stdout + listed.stderr
    row = f"| [JADA-TOY-01]({DOCS_URL}/host-controls.md) | low | host | The host has a name |"
    assert row in (copy / "README.md").read_text()
    res = run(copy, "-m", "pytest", *GUARDS, "-q", "-p", "no:cacheprovider", "-x")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "JADA-TOY-01" not in res.stdout, res.stdout[-2000:]  # no failure named it


def test_a_missing_place_is_named(tmp_path: Path) -> None:
    copy = tree_copy(tmp_path / "tree")
    add_toy_control(copy, docs_row=False)
    res = run(copy, "-m", "pytest", "tests/test_docs.py", "-q", "-p", "no:cacheprovider")
    assert res.returncode == 1, res.stdout[-3000:]
    assert "docs/host-controls.md has no table row naming JADA-TOY-01" in res.stdout
