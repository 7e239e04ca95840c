# cfg-agent-layouts: the native installer's layout for the service user (claude install:
# ~/.local/share/claude/versions/<version>, ~/.local/bin/claude links to it), with the
# stand-in as the version's binary, and a symlink of another name to that version.
v=home/jada/.local/share/claude/versions
mkdir -p "$v" home/jada/.local/bin
cp usr/local/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe "$v/2.1.332"
chmod 755 "$v/2.1.332"
ln -sfn /home/jada/.local/share/claude/versions/2.1.332 home/jada/.local/bin/claude
ln -sfn /home/jada/.local/share/claude/versions/2.1.332 usr/local/bin/agent-cli
