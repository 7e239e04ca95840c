# drifted: the service user's settings are writable by everyone.
chmod 666 root/.claude/settings.json
# drifted: jada-agent.service is disabled (no wants/ link) yet running: the sandbox starts
# it by hand after boot (started-by-hand), so nothing starts it at the next boot.
rm -f etc/systemd/system/multi-user.target.wants/jada-agent.service
# drifted: a native installer version (claude install, as root: the unit has no User=),
# which /etc/jada/children.json starts by its full path with --model claude-opus-4-6.
mkdir -p root/.local/share/claude/versions
cp usr/local/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe \
  root/.local/share/claude/versions/2.1.332
