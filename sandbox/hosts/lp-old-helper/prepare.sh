# The read helper of an earlier release (version 2, which let the audit user run any
# program as root through its nsenter branch: issue 26), still installed: the suite's
# preflight must fail as an error that names the fix, and no read may use it.
install -m 0755 "$(dirname "$0")/jada-checks-read-v2" usr/local/libexec/jada-checks-read
