# cfg-cli-js: the old layout has no native binary: npm's bin link points at cli.js.
rm -rf usr/local/lib/node_modules/@anthropic-ai/claude-code/bin \
  usr/local/lib/node_modules/@anthropic-ai/claude-code-linux-x64
ln -sfn ../lib/node_modules/@anthropic-ai/claude-code/cli.js usr/local/bin/claude
