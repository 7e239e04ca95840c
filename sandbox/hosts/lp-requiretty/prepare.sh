# sudo only from a terminal: the suite has none (ssh without -t).
printf 'Defaults:jada-audit requiretty\n' >> etc/sudoers.d/jada-checks
