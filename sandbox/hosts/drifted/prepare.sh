# drifted: the service user's settings are writable by everyone.
chmod 666 root/.claude/settings.json
# drifted: jada-agent.service is disabled (no wants/ link) yet running, started by hand.
rm -f etc/systemd/system/multi-user.target.wants/jada-agent.service
ln -sf /etc/systemd/system/jada-kick.service etc/systemd/system/multi-user.target.wants/jada-kick.service
