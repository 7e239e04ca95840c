# sudo ignores a sudoers.d file that others may write; 0440 root is what visudo expects.
chmod 0440 etc/sudoers.d/jada-checks
