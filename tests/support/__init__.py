"""Shared helpers of the self-tests: paths, the sandbox harness, CI runners, report data."""
