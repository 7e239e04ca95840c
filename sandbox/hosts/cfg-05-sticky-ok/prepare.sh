# Healthy (JADA-CFG-05): /srv is world-writable but sticky, like /tmp; /srv/jada is root's,
# so only root may rename or remove it (path_resolution(7), inode(7) S_ISVTX).
chmod 1777 srv
