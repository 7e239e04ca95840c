"""Tools that run only from a checkout: `make demo` and `make bench`. They boot the
checkout's sandbox/hosts and write build/, so the wheel does not ship them (pyproject.toml
lists the packages it ships; README, "What the wheel ships")."""
