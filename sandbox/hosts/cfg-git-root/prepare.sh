# cfg-git-root: /srv/jada is a git work tree (git cannot carry a nested .git directory).
mkdir -p srv/jada/.git
printf 'ref: refs/heads/main\n' > srv/jada/.git/HEAD
