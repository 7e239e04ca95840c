# Fault: a valid but 2 MiB user settings file (over the 1 MiB cap). Runs in the host's root.
f=home/jada/.claude/settings.json
{ printf '{"model": "claude-sonnet-4-6", "companyAnnouncements": ["'
  head -c 2097152 /dev/zero | tr '\0' a
  printf '"]}\n'; } > "$f"
