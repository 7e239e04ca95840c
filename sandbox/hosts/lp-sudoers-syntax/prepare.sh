# A sudoers file with a syntax error (an unbalanced quote on its last line).
printf 'Defaults:jada-audit env_keep += "HOME\n' >> etc/sudoers.d/jada-checks
