# Fault (JADA-CFG-05): the working directory is world-writable without the sticky bit:
# anyone can rename /srv/jada/.claude (root's) away and put their own, with their own
# settings.json, in its place. (Not /srv itself: systemd-tmpfiles resets it to 0755 at boot,
# /usr/lib/tmpfiles.d/home.conf "q /srv 0755".)
mkdir -p srv/jada/.claude
chmod 0777 srv/jada
