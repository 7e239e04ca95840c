"""jada-checks: compliance and health checks for jada-agent orchestrator deployments."""

__version__ = "0.1.0"
