"""jada-checks: compliance and health checks for jada-agent orchestrator deployments."""

# The one place the version is written: pyproject.toml reads it (dynamic version), so the
# installed metadata, ``jada-checks --version`` and the reports' suite_version agree.
__version__ = "0.1.0"
