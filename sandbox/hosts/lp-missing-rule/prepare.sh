# A sudoers file that grants something, but not the read helper.
printf 'jada-audit ALL = (root) NOPASSWD: /usr/bin/id\n' > etc/sudoers.d/jada-checks
