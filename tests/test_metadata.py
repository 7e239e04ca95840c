"""What a package index and a CI catalog show: the licence, the classifiers, the project
URLs and a README whose links and screenshot resolve there.

A package index renders the README (the wheel's long description) away from the
repository, so a relative link or image would point into the index itself: every link
is absolute, under the same repository URL the Action and the GitLab component name
(``OWNER/jada-checks``, a placeholder until the project has its home), at the release tag
``v<version>``, and names a file this checkout has. The wheel's own METADATA is checked in
tests/test_wheel.py.
"""

from __future__ import annotations

import re
import tomllib

import trove_classifiers

from tests.support.ci_support import REPO, version

REPO_URL = "https://github.com/OWNER/jada-checks"
RAW_URL = "https://raw.githubusercontent.com/OWNER/jada-checks"
# [text](target) and ![alt](target); a target has no spaces in this README
LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")
APACHE_FIRST_LINES = ["Apache License", "Version 2.0, January 2004",
                      "http://www.apache.org/licenses/"]


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def readme_links(text: str) -> list[tuple[bool, str]]:
    """(is an image, target) of every inline link, code spans and blocks left out."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`(?!\])", "", text)
    return [(bang == "!", target) for bang, target in LINK.findall(text)]


def unresolved(text: str) -> list[str]:
    """The README links that would not resolve on a package index page, with why."""
    tag = f"v{version()}"
    bad = []
    for image, target in readme_links(text):
        if target.startswith("#"):
            bad.append(f"{target}: an anchor (the index page has other anchors)")
            continue
        if not re.match(r"https?://", target):
            bad.append(f"{target}: relative (the index resolves it against itself)")
            continue
        prefixes = ((f"{RAW_URL}/{tag}/",) if image else
                    (f"{REPO_URL}/blob/{tag}/", f"{REPO_URL}/tree/{tag}/"))
        if not target.startswith((RAW_URL, REPO_URL)):
            continue  # another site (npm, GitHub docs): absolute is all it needs
        path = next((target.removeprefix(p) for p in prefixes if target.startswith(p)), None)
        if path is None:
            bad.append(f"{target}: not under {' or '.join(prefixes)}")
        elif not (REPO / path.split("#")[0]).exists():
            bad.append(f"{target}: this checkout has no {path}")
    return bad


def test_licence_file_is_apache_2() -> None:
    text = (REPO / "LICENSE").read_text()
    assert [ln.strip() for ln in text.splitlines()[1:4]] == APACHE_FIRST_LINES
    assert "END OF TERMS AND CONDITIONS" in text
    assert "Copyright 2026 The jada-checks Authors" in text and "[yyyy]" not in text
    meta = project()
    assert meta["license"] == "Apache-2.0" and meta["license-files"] == ["LICENSE"]


def test_classifiers_are_known_to_the_index() -> None:
    classifiers = project()["classifiers"]
    assert "Framework :: Pytest" in classifiers
    assert [c for c in classifiers if c not in trove_classifiers.classifiers] == []
    assert not [c for c in classifiers if c.startswith("License ::")], \
        "PEP 639: the licence is the SPDX expression alone"


def test_project_urls_name_the_repository_the_ci_files_name() -> None:
    urls = project()["urls"]
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(urls)
    assert all(u.startswith(REPO_URL) for u in urls.values()), urls
    for path in ("action.yml", "templates/deploy-gate.yml"):
        assert "OWNER/jada-checks" in (REPO / path).read_text(), path


def test_readme_links_resolve_on_an_index_page() -> None:
    text = (REPO / "README.md").read_text()
    links = readme_links(text)
    assert (True, f"{RAW_URL}/v{version()}/docs/html-report.png") in links
    assert len(links) >= 10
    assert unresolved(text) == []


def test_the_link_check_catches_what_an_index_breaks() -> None:
    """Not vacuous: relative links, the wrong tag and missing files are named."""
    tag = f"v{version()}"
    text = ("[a](docs/http.md) ![s](docs/html-report.png) `[not](a-link)`\n"
            f"[b]({REPO_URL}/blob/v0.0.1/docs/http.md) [c]({REPO_URL}/blob/{tag}/nope.md)\n"
            f"![d]({REPO_URL}/blob/{tag}/docs/html-report.png)\n```\n[e](f.md)\n```\n")
    assert unresolved(text) == [
        "docs/http.md: relative (the index resolves it against itself)",
        "docs/html-report.png: relative (the index resolves it against itself)",
        f"{REPO_URL}/blob/v0.0.1/docs/http.md: not under {REPO_URL}/blob/{tag}/ or "
        f"{REPO_URL}/tree/{tag}/",
        f"{REPO_URL}/blob/{tag}/nope.md: this checkout has no nope.md",
        f"{REPO_URL}/blob/{tag}/docs/html-report.png: not under {RAW_URL}/{tag}/",
    ]
