# Fault (JADA-CFG-05): the working directory is world-writable (sticky, like /tmp): anyone
# can create /srv/jada/.claude/settings.json, the project settings, and choose the model.
chmod 1777 srv/jada
