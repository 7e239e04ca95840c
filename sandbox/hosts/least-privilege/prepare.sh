# The suite's least-privilege setup, installed from ci/ exactly as the README says:
# the sudoers rule (0440 root: sudo ignores a file others may write) and the read helper.
ci="$(dirname "$0")/../../../ci"
install -D -m 0440 "$ci/sudoers.d/jada-checks" etc/sudoers.d/jada-checks
install -D -m 0755 "$ci/libexec/jada-checks-read" usr/local/libexec/jada-checks-read
