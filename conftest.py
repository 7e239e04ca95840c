"""Repository-level pytest configuration.

The suite itself is the installed plugin ``jada_checks.plugin`` (entry point ``jada``); this
file only makes the repository importable for the self-tests under ``tests/`` when the
package is not installed, so ``pytest tests`` works from a plain checkout.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
