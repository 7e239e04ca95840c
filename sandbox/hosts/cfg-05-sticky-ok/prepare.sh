# Healthy (JADA-CFG-05): the working directory is world-writable but sticky, like /tmp, and
# /srv/jada/.claude already exists and is root's: only root may rename or remove it
# (inode(7) S_ISVTX, rename(2) EPERM). Compare cfg-05-creatable-dir, where it is missing.
mkdir -p srv/jada/.claude
chmod 1777 srv/jada
