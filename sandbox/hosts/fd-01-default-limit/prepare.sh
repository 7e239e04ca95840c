# Fault (JADA-FD-01): the unit sets no LimitNOFILE, so systemd's default applies
# (soft 1024). An empty "LimitNOFILE=" drop-in would not do it: systemd 252 ignores an
# empty rlimit assignment ("Failed to parse resource value, ignoring").
sed -i '/^LimitNOFILE=/d' etc/systemd/system/jada-agent.service
