# Fault (JADA-CFG-05): /srv is world-writable without the sticky bit: anyone can rename
# /srv/jada away and put their own directory, with their own .claude/settings.json, there.
chmod 0777 srv
