# cfg-unrecognised: a native worker that is not Claude Code (the stand-in's code, another name).
mkdir -p opt/agents
cp usr/local/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe opt/agents/runner
chmod 755 opt/agents/runner
