"""Fixtures of the self-tests. ``sandbox`` boots every host directory once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jada_checks.sandbox.sandbox import Sandbox, exclusive
from tests.sandbox_harness import SandboxHarness, all_host_dirs


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHarness]:
    sb = Sandbox()
    hosts = all_host_dirs()
    workdir = tmp_path_factory.mktemp("sandbox")
    with exclusive():
        try:
            sb.up({name: str(path) for name, path in hosts.items()}, workdir / "all.yaml")
            yield SandboxHarness(sb, workdir)
        finally:
            sb.down()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs booted hosts carries the ``sandbox`` marker, so
    ``-m "not sandbox"`` (make test-fast) is exactly the tests that need none."""
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sandbox)
