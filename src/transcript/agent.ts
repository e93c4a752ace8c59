// Which agent or SDK made a request, from its User-Agent. Ordered: the agents first (they embed SDK
// names in their own User-Agent), then SDKs, then generic HTTP clients.
const AGENTS: Array<[RegExp, string]> = [
  [/\bclaude-cli\/([\w.+-]+)/i, 'claude-code'],
  [/\bclaude-code\/([\w.+-]+)/i, 'claude-code'],
  [/\bcodex_(?:exec|cli_rs|tui)\/([\w.+-]+)/i, 'codex'],
  [/\bcodex[-_ ]?cli\/([\w.+-]+)/i, 'codex'],
  [/\bGeminiCLI\/([\w.+-]+)/i, 'gemini-cli'],
  [/\bcopilot(?:-cli)?\/([\w.+-]+)/i, 'copilot'],
  [/\bOpenAI\/JS ([\w.+-]+)/i, 'openai-node'],
  [/\bOpenAI\/Python ([\w.+-]+)/i, 'openai-python'],
  [/\bAnthropic\/JS ([\w.+-]+)/i, 'anthropic-node'],
  [/\bAnthropic\/Python ([\w.+-]+)/i, 'anthropic-python'],
  [/\bgoogle-genai-sdk\/([\w.+-]+)/i, 'google-genai'],
  [/\bpython-requests\/([\w.+-]+)/i, 'python-requests'],
  [/\bpython-httpx\/([\w.+-]+)/i, 'python-httpx'],
  [/\bcurl\/([\w.+-]+)/i, 'curl'],
  [/\bGo-http-client\/([\w.+-]+)/i, 'go'],
  [/\bundici\b/i, 'undici'],
  [/\bnode\b/i, 'node'],
];

/** "name/version" (or just the name) of the agent behind a User-Agent, or null. */
export function agentFromUserAgent(ua: string | null | undefined): string | null {
  if (!ua) return null;
  for (const [re, name] of AGENTS) {
    const m = re.exec(ua);
    if (m) return m[1] ? `${name}/${m[1]}` : name;
  }
  return null;
}
