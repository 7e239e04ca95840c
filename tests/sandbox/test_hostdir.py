"""Host directories' name lists (``ssh-users``, ``started-by-hand``): read along the whole
inherits chain, in order, once each, and a bad name is an error naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from jada_checks.sandbox.hostdir import HostDir, HostDirError


def chain(tmp_path: Path, **files: tuple[str, str]) -> HostDir:
    """A parent and a child directory; ``files``: name -> (parent's text, child's text)."""
    parent, child = tmp_path / "parent", tmp_path / "child"
    for d in (parent, child):
        d.mkdir()
    for name, (up, down) in files.items():
        (parent / name.replace("_", "-")).write_text(up)
        (child / name.replace("_", "-")).write_text(down)
    return HostDir("child", (parent, child))


def test_names_follow_the_chain_once_each(tmp_path: Path) -> None:
    d = chain(tmp_path, ssh_users=("jada-audit\nops # the on-call\n", "\nops\nci\n"),
              started_by_hand=("a.service\n", "b.timer\na.service\n"))
    assert d.ssh_users == ["jada-audit", "ops", "ci"]
    assert d.started_by_hand() == ["a.service", "b.timer"]


@pytest.mark.parametrize(("files", "words"), [
    ({"ssh_users": ("", "ops\nroot\n")}, "child/ssh-users:2: 'root' is not a non-root user name"),
    ({"ssh_users": ("Bad Name\n", "")}, "parent/ssh-users:1: 'Bad Name' is not a non-root"),
    ({"started_by_hand": ("", "x.service\nrm -rf /\n")},
     "child/started-by-hand:2: 'rm -rf /' is not a unit name"),
])
def test_a_bad_name_names_file_and_line(tmp_path: Path, files: dict[str, tuple[str, str]],
                                         words: str) -> None:
    d = chain(tmp_path, **files)
    with pytest.raises(HostDirError) as err:
        _ = d.ssh_users if "ssh_users" in files else d.started_by_hand()
    assert words in str(err.value)
