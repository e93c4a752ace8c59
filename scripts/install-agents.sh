#!/usr/bin/env bash
# Installs the pinned coding agents the agent suite (test/agents) runs, into .agents/ (gitignored, cacheable
# by CI as one folder keyed on this file). Idempotent: a matching install is left alone. Not runtime deps.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${WIRETRAIL_AGENTS_PREFIX:-$PWD/.agents}"
PINS=(
  "@anthropic-ai/claude-code@2.1.332"
  "@openai/codex@0.171.0"
  "@google/gemini-cli@0.61.0"
  "@github/copilot@1.0.102"
)
stamp="$PREFIX/.pins"
want="$(printf '%s\n' "${PINS[@]}")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$PREFIX/node_modules" ]; then
  exit 0
fi
mkdir -p "$PREFIX"
[ -f "$PREFIX/package.json" ] || echo '{"name":"wiretrail-agent-suite","private":true}' > "$PREFIX/package.json"
npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact "${PINS[@]}"
printf '%s\n' "${PINS[@]}" > "$stamp"
