# Fault: root-owned mode 600, so the service user (and Claude Code running as it) cannot read it.
chmod 600 home/jada/.claude/settings.json
