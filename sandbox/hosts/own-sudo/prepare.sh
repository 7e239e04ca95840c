# The own checks' sudoers file: 0440 root, as visudo installs it (sudo ignores a sudoers
# file others may write). It allows `/usr/sbin/nft list ruleset` and nothing else.
chmod 0440 etc/sudoers.d/jada-own-checks
chown root:root etc/sudoers.d/jada-own-checks
