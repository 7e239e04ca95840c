# Fault: the user settings are a symlink to a file outside the service user's home.
mkdir -p srv/shared
cp home/jada/.claude/settings.json srv/shared/claude-settings.json
ln -sfn /srv/shared/claude-settings.json home/jada/.claude/settings.json
