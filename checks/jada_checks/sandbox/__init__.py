"""Real test hosts on this machine (systemd-nspawn + OpenSSH) and a local Lightsail endpoint."""
