"""Where the sandbox keeps what it builds or fetches once per machine: the Debian trees
(:mod:`bases`) and the real Claude Code packages (:mod:`claude_code`)."""

from pathlib import Path

CACHE = Path("/var/cache/jada-sandbox")
