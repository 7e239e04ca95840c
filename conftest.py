"""Repository-level pytest configuration.

The suite itself is the installed plugin ``jada_checks.plugin`` (entry point ``jada``); its
import name maps to ``checks/`` only through the install (``make install``). This file
puts the repository on ``sys.path`` so the self-tests can import ``tests.*`` helpers.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
