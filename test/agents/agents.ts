// The coding agents of the agent suite: pinned package, headless command, the key variable it reads and the
// switches that keep it from phoning home (telemetry, updates). The recipes documented in docs/agents.md.
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientName } from '../../src/ca/index.js';
import { ADC, ACCESS_TOKEN, VERTEX_HOSTS, VERTEX_PROJECT, VERTEX_REGION, writeGcloudAdc } from './vertex-fake.js';

export const AGENTS_PREFIX = join(import.meta.dirname, '..', '..', '.agents');

export interface AgentSpec {
  /** The run's name; one agent may have several runs (claude on the Anthropic API and on Bedrock). */
  name: 'claude' | 'claude-bedrock' | 'claude-bedrock-signed' | 'claude-vertex' | 'codex' | 'gemini' | 'gemini-vertex' | 'copilot';
  pkg: string;
  /** Pinned in scripts/install-agents.sh; a different installed version fails the suite. */
  version: string;
  bin: string;
  client: ClientName;
  /** agent name the User-Agent rules must produce (src/proxy/user-agent.ts). */
  attributedAs: string;
  args(prompt: string): string[];
  /** API key variable (a fake key: the fake provider accepts anything) plus telemetry/update switches. */
  env(home: string): Record<string, string>;
  /** Files the agent needs in its fresh HOME (settings that select the auth method, turn off usage stats). */
  setup?(home: string): void;
  /** Extra hosts the fake provider serves for this run (its certificates, --connect-to). */
  hosts?: string[];
  /** Run under the default intercept list (no `intercept:`), to prove its entries cover this run's hosts. */
  defaultPolicy?: boolean;
  /** Credentials besides the answer's fake secret that must never appear raw in the record. */
  recordSecrets?: string[];
}

export const PROMPT = 'Reply with the deploy key.';

export const AGENTS: Record<AgentSpec['name'], AgentSpec> = {
  claude: {
    name: 'claude',
    pkg: '@anthropic-ai/claude-code',
    version: '2.1.332',
    bin: 'claude',
    client: 'claude',
    attributedAs: 'claude-code',
    args: (p) => ['-p', p],
    env: () => ({
      ANTHROPIC_API_KEY: 'sk-ant-api03-fake-agent-suite-key',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    }),
  },
  // Claude Code on AWS Bedrock: InvokeModelWithResponseStream event streams. The runner holds no AWS credential
  // (CLAUDE_CODE_SKIP_BEDROCK_AUTH: send unsigned); wiretrail signs with the key in its policy (aws_sigv4).
  'claude-bedrock': {
    name: 'claude-bedrock',
    pkg: '@anthropic-ai/claude-code',
    version: '2.1.332',
    bin: 'claude',
    client: 'claude',
    attributedAs: 'claude-code',
    args: (p) => ['-p', p],
    env: () => ({
      CLAUDE_CODE_USE_BEDROCK: '1',
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      AWS_REGION: 'us-east-1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    }),
  },
  // The same with dummy AWS keys, for setups where the agent must sign (no CLAUDE_CODE_SKIP_BEDROCK_AUTH):
  // wiretrail drops the agent's signature and signs with its own key.
  'claude-bedrock-signed': {
    name: 'claude-bedrock-signed',
    pkg: '@anthropic-ai/claude-code',
    version: '2.1.332',
    bin: 'claude',
    client: 'claude',
    attributedAs: 'claude-code',
    args: (p) => ['-p', p],
    env: () => ({
      CLAUDE_CODE_USE_BEDROCK: '1',
      AWS_ACCESS_KEY_ID: 'AKIADUMMYRUNNERKEY00',
      AWS_SECRET_ACCESS_KEY: 'dummyRunnerSecretNotARealKey0000000000000',
      AWS_REGION: 'us-east-1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    }),
  },
  // Claude Code on Google Vertex AI with its default auth: Application Default Credentials of type
  // authorized_user in gcloud's well-known file, refreshed at oauth2.googleapis.com/token by google-auth-library.
  'claude-vertex': {
    name: 'claude-vertex',
    pkg: '@anthropic-ai/claude-code',
    version: '2.1.332',
    bin: 'claude',
    client: 'claude',
    attributedAs: 'claude-code',
    args: (p) => ['-p', p],
    env: () => ({
      CLAUDE_CODE_USE_VERTEX: '1',
      CLOUD_ML_REGION: VERTEX_REGION,
      ANTHROPIC_VERTEX_PROJECT_ID: VERTEX_PROJECT,
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    }),
    setup: (home) => void writeGcloudAdc(home),
    hosts: VERTEX_HOSTS,
    defaultPolicy: true,
    recordSecrets: [ADC.refresh_token, ADC.client_secret, ACCESS_TOKEN],
  },
  codex: {
    name: 'codex',
    pkg: '@openai/codex',
    version: '0.171.0',
    bin: 'codex',
    client: 'codex',
    attributedAs: 'codex',
    args: (p) => ['exec', '--skip-git-repo-check', '--sandbox', 'read-only', '-c', 'check_for_update_on_startup=false', '-c', 'analytics.enabled=false', p],
    env: (home) => ({ OPENAI_API_KEY: 'sk-fake-agent-suite-key', CODEX_HOME: join(home, '.codex') }),
    setup: (home) => mkdirSync(join(home, '.codex'), { recursive: true }),
  },
  gemini: {
    name: 'gemini',
    pkg: '@google/gemini-cli',
    version: '0.61.0',
    bin: 'gemini',
    client: 'gemini',
    attributedAs: 'gemini-cli',
    args: (p) => ['-p', p],
    env: () => ({ GEMINI_API_KEY: 'fake-agent-suite-key', GEMINI_TELEMETRY_ENABLED: 'false', GEMINI_CLI_NO_RELAUNCH: 'true', GEMINI_CLI_TRUST_WORKSPACE: 'true' }),
    setup: (home) => {
      mkdirSync(join(home, '.gemini'), { recursive: true });
      writeFileSync(
        join(home, '.gemini', 'settings.json'),
        JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } }, privacy: { usageStatisticsEnabled: false }, general: { disableAutoUpdate: true, disableUpdateNag: true }, telemetry: { enabled: false } }),
      );
    },
  },
  // Gemini CLI on Vertex AI: the same ADC file, its `vertex-ai` auth type (GOOGLE_GENAI_USE_VERTEXAI, project, location).
  'gemini-vertex': {
    name: 'gemini-vertex',
    pkg: '@google/gemini-cli',
    version: '0.61.0',
    bin: 'gemini',
    client: 'gemini',
    attributedAs: 'gemini-cli',
    args: (p) => ['-p', p],
    env: () => ({
      GOOGLE_GENAI_USE_VERTEXAI: 'true',
      GOOGLE_CLOUD_PROJECT: VERTEX_PROJECT,
      GOOGLE_CLOUD_LOCATION: VERTEX_REGION,
      GEMINI_TELEMETRY_ENABLED: 'false',
      GEMINI_CLI_NO_RELAUNCH: 'true',
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
    }),
    setup: (home) => {
      writeGcloudAdc(home);
      mkdirSync(join(home, '.gemini'), { recursive: true });
      writeFileSync(
        join(home, '.gemini', 'settings.json'),
        JSON.stringify({ security: { auth: { selectedType: 'vertex-ai' } }, privacy: { usageStatisticsEnabled: false }, general: { disableAutoUpdate: true, disableUpdateNag: true }, telemetry: { enabled: false } }),
      );
    },
    hosts: VERTEX_HOSTS,
    defaultPolicy: true,
    recordSecrets: [ADC.refresh_token, ADC.client_secret, ACCESS_TOKEN],
  },
  copilot: {
    name: 'copilot',
    pkg: '@github/copilot',
    version: '1.0.102',
    bin: 'copilot',
    client: 'copilot',
    attributedAs: 'copilot-cli',
    args: (p) => ['-p', p, '--allow-all-tools', '--no-color'],
    env: () => ({ COPILOT_GITHUB_TOKEN: 'github_pat_11FAKEAGENTSUITE0000000000000000000000000000000000000000000000000000000000', COPILOT_DISABLE_TELEMETRY: '1', COPILOT_AUTO_UPDATE: 'false' }),
  },
};

/** The installed binary, or an error naming what is missing: the suite never skips an agent. */
export function agentBin(spec: AgentSpec): string {
  const pkgJson = join(AGENTS_PREFIX, 'node_modules', spec.pkg, 'package.json');
  if (!existsSync(pkgJson)) throw new Error(`${spec.pkg}@${spec.version} is not installed in ${AGENTS_PREFIX}: run scripts/install-agents.sh`);
  const v = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  if (v !== spec.version) throw new Error(`${spec.pkg} is ${v} in ${AGENTS_PREFIX}, the suite pins ${spec.version}: run scripts/install-agents.sh`);
  return join(AGENTS_PREFIX, 'node_modules', '.bin', spec.bin);
}
