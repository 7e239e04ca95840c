# drifted: the service user's settings are writable by everyone.
chmod 666 root/.claude/settings.json
# drifted: jada-agent.service is disabled (no wants/ link) yet running: the sandbox starts
# it by hand after boot (started-by-hand), so nothing starts it at the next boot.
rm -f etc/systemd/system/multi-user.target.wants/jada-agent.service
