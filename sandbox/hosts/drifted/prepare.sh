# drifted: the service user's settings are writable by everyone.
chmod 666 root/.claude/settings.json
