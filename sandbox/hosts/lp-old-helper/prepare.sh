# The read helper of an earlier release still installed: version 3, the last one whose
# nsenter branch let the audit user run any program as root (issue 26; versions 1 and 2
# had the same branch). The suite's preflight must fail as an error that names the fix,
# and no read may use it.
install -m 0755 "$(dirname "$0")/jada-checks-read-v3" usr/local/libexec/jada-checks-read
