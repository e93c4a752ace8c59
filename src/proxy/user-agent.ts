// Which agent (or SDK, or tool) made a request, from its User-Agent: recorded as meta.agent on the request and
// collected into the session summary (`wiretrail sessions list` shows it). Rules are data, most specific first;
// each pattern is anchored where the product puts its token and captures the version. Formats were read off
// the real clients (the pinned agents of test/agents, the SDKs in devDependencies): see docs/agents.md.

export interface AgentInfo {
  /** Stable product name, e.g. "claude-code", "codex", "openai-node". */
  name: string;
  /** Version as the client states it (at most 40 characters), or "" when it states none. */
  version: string;
}

interface AgentRule {
  name: string;
  /** Group 1 is the version. */
  pattern: RegExp;
  /** A real User-Agent this rule must recognise (checked by test/proxy/user-agent.test.ts). */
  example: string;
}

const VERSION = '([0-9][0-9A-Za-z.+_-]{0,39})';

export const AGENT_RULES: readonly AgentRule[] = [
  // Coding agents.
  { name: 'claude-code', pattern: new RegExp(`^claude-cli/${VERSION}`), example: 'claude-cli/2.1.332 (external, sdk-cli)' },
  // Claude Code's own side calls (settings, policy limits) name the product directly.
  { name: 'claude-code', pattern: new RegExp(`^claude-code/${VERSION}`), example: 'claude-code/2.1.332' },
  { name: 'codex', pattern: new RegExp(`^codex_[a-z_]+/${VERSION}`), example: 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) unknown (codex_exec; 0.171.0)' },
  // "GeminiCLI-tui/…" in a terminal, "GeminiCLI/…" otherwise.
  { name: 'gemini-cli', pattern: new RegExp(`^GeminiCLI(?:-[a-z]+)?/${VERSION}`), example: 'GeminiCLI-tui/0.61.0/gemini-3.1-pro-preview (linux; x64; terminal)' },
  { name: 'copilot-cli', pattern: new RegExp(`^copilot/${VERSION}`), example: 'copilot/1.0.102 (linux v24.20.0) term/unknown client/github/cli' },
  { name: 'copilot-cli', pattern: new RegExp(`^copilot-cli/${VERSION}`), example: 'copilot-cli/1.0.102' },
  // Its update and customization checks name the product without a version.
  { name: 'copilot-cli', pattern: /^GitHubCopilotCLI()$/, example: 'GitHubCopilotCLI' },
  // SDKs (the agents' own requests name the agent first; an SDK alone means a script or an integration).
  { name: 'openai-node', pattern: new RegExp(`^OpenAI/JS ${VERSION}`), example: 'OpenAI/JS 6.49.0' },
  { name: 'openai-python', pattern: new RegExp(`^OpenAI/Python ${VERSION}`), example: 'OpenAI/Python 1.109.1' },
  { name: 'anthropic-node', pattern: new RegExp(`^Anthropic/JS ${VERSION}`), example: 'Anthropic/JS 1.12.0' },
  { name: 'anthropic-python', pattern: new RegExp(`^Anthropic/Python ${VERSION}`), example: 'Anthropic/Python 0.69.0' },
  { name: 'google-genai', pattern: new RegExp(`^google-genai-sdk/${VERSION}`), example: 'google-genai-sdk/1.30.0 gl-node/v20.20.2' },
  { name: 'python-requests', pattern: new RegExp(`^python-requests/${VERSION}`), example: 'python-requests/2.31.0' },
  { name: 'python-httpx', pattern: new RegExp(`^python-httpx/${VERSION}`), example: 'python-httpx/0.28.1' },
  { name: 'curl', pattern: new RegExp(`^curl/${VERSION}`), example: 'curl/7.88.1' },
  { name: 'git', pattern: new RegExp(`^git/${VERSION}`), example: 'git/2.39.5' },
  { name: 'go', pattern: new RegExp(`^Go-http-client/${VERSION}`), example: 'Go-http-client/1.1' },
  { name: 'java', pattern: new RegExp(`^Java-http-client/${VERSION}`), example: 'Java-http-client/21.0.5' },
  // undici's fetch sends exactly "node" (Node's built-in fetch with no User-Agent set).
  { name: 'node-fetch', pattern: /^node$()/, example: 'node' },
];

const MAX_UA = 512;

/** The agent named by a User-Agent header, or null when no rule knows it (the header is recorded anyway). */
export function agentFromUserAgent(ua: string | string[] | undefined): AgentInfo | null {
  const raw = Array.isArray(ua) ? ua[0] : ua;
  if (!raw) return null;
  const s = raw.slice(0, MAX_UA).trim();
  for (const r of AGENT_RULES) {
    const m = r.pattern.exec(s);
    if (m) return { name: r.name, version: m[1] ?? '' };
  }
  return null;
}
