"""Tools that run only from a checkout: `make demo`, `make bench` and `make check-upstream`.
They read the checkout's sandbox/hosts (demo and bench boot them and write build/), so the
wheel does not ship them (pyproject.toml lists the packages it ships; README, "What the
wheel ships")."""
