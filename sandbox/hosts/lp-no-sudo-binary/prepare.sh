# sudo is not installed (the overlay hides the binary).
rm -f usr/bin/sudo
