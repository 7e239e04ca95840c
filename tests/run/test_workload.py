"""The static estimate of the user's Testinfra calls that ``-n`` is decided on
(:mod:`jada_checks.run.workload`): real files parsed, nothing imported or run."""

from __future__ import annotations

from pathlib import Path

from jada_checks.run.workload import estimate

TARGETS = [("web-1", "10.0.0.1"), ("web-2", "10.0.0.2"), ("db-1", "10.0.0.3")]


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_counts_host_calls_per_test_times_targets(tmp_path: Path) -> None:
    write(tmp_path, "checks/test_a.py", """\
import pytest

def test_two(host):
    assert host.file("/etc/passwd").user == "root"
    assert host.service("ssh").is_running

def test_target_only(target):
    assert target.name

def test_no_check():
    pass

def helper(host):
    host.run("true")

class TestGroup:
    def test_one(self, host):
        assert host.run("id").rc == 0

@pytest.mark.parametrize("path", ["/a", "/b", "/c", "/d"])
def test_each(host, path):
    assert host.file(path).exists
""")
    # per target: 2 + 1 (no host call still runs) + 0 (no fixture) + 1 + 4 = 8
    assert estimate(["checks"], TARGETS, rootdir=tmp_path) == 8 * 3


def test_narrowing_by_literal_marks_and_testinfra_hosts(tmp_path: Path) -> None:
    write(tmp_path, "test_web.py", """\
import pytest

pytestmark = pytest.mark.jada_targets("web-*")

def test_web(host):
    host.run("true")

@pytest.mark.jada_targets("web-1")
def test_first_web(host):
    host.run("true")
""")
    write(tmp_path, "test_db.py", """\
testinfra_hosts = ["ssh://root@10.0.0.3:22"]

def test_db(host):
    host.run("true")
""")
    write(tmp_path, "test_dynamic.py", """\
import pytest

NAMES = ["web-1"]

@pytest.mark.jada_targets(*NAMES)
def test_unknown(host):
    host.run("true")
""")
    assert estimate(["test_web.py"], TARGETS, rootdir=tmp_path) == 2 + 1
    assert estimate(["test_db.py"], TARGETS, rootdir=tmp_path) == 1  # by its ssh host
    assert estimate(["test_dynamic.py"], TARGETS, rootdir=tmp_path) == 3  # not a literal


def test_node_ids_files_patterns_and_bad_files(tmp_path: Path) -> None:
    write(tmp_path, "d/test_x.py", "def test_a(host):\n    host.run('a')\n    host.run('b')\n\n"
                                   "def test_b(host):\n    host.run('c')\n")
    write(tmp_path, "d/check_y.py", "def test_c(host):\n    host.run('a')\n")
    write(tmp_path, "d/test_broken.py", "def test_(:\n")
    write(tmp_path, "d/.hidden/test_z.py", "def test_d(host):\n    host.run('a')\n")
    one = [("t", None)]
    assert estimate(["d/test_x.py::test_b[t]"], one, rootdir=tmp_path) == 1
    assert estimate(["d"], one, rootdir=tmp_path, norecursedirs=[".*"]) == 3
    assert estimate(["d"], one, rootdir=tmp_path, python_files=["check_*.py"],
                    norecursedirs=[".*"]) == 1
    assert estimate([str(tmp_path / "d")], one, rootdir=Path("/"),
                    norecursedirs=[]) == 4  # absolute; the hidden directory walked too
    assert estimate(["missing"], one, rootdir=tmp_path) == 0


def test_stops_reading_once_enough(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path, f"c/test_{i}.py", "def test_a(host):\n" + "    host.run('x')\n" * 10)
    assert estimate(["c"], [("t", None)], rootdir=tmp_path) == 50
    assert estimate(["c"], [("t", None)], rootdir=tmp_path, enough=15) == 20
