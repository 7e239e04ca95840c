# Fault: the user settings are writable by everyone.
chmod 666 home/jada/.claude/settings.json
