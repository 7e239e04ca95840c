"""Where the self-tests find the checkout: one definition for every test module."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
DATA = TESTS / "data"
HOSTS_DIR = REPO / "sandbox" / "hosts"
