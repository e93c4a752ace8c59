// Where secrets appear in AI-assistant output: the shapes gitleaks generates its true positives in
// (cmd/generate/config/utils/generate.go GenerateSampleSecrets: INI, JSON, XML, YAML, C#, Go, Java,
// Kotlin, PHP, Python, System.setProperty, logstash, Makefile) plus what assistants write around
// them: .env files, SDK snippets, CI YAML, curl, MCP configs, JSON-escaped tool arguments, logs,
// prose, docker login, URLs with credentials, Kubernetes Secrets (base64), URL-encoded forms,
// \u and \n escapes. A context returns the text and the secret as it appears there (encoded).
import type { Rng } from '../corpus/rng.js';
import type { SecretFormat } from './formats.js';

export interface Placed {
  text: string;
  /** The secret's spelling(s) in the text; none of their 6-character runs may survive. */
  secrets: string[];
}
export type Context = (fmt: SecretFormat, secret: string, r: Rng) => Placed | null;

const json1 = (s: string) => JSON.stringify(s).slice(1, -1);
const camel = (name: string) => name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (name: string) => name.toLowerCase();
const multiline = (s: string) => s.includes('\n');
const one = (text: string, secret: string): Placed => ({ text, secrets: material(secret) });

/**
 * What must not survive of a secret: for PEM blocks and key files the key material (the base64
 * lines, which also appear JSON-escaped as they are), not the BEGIN/END lines or the file's other
 * fields; otherwise the whole value.
 */
export function material(s: string): string[] {
  // webhook URLs: the path after the fixed service prefix is the credential
  const hook = s.match(/(?:hooks\.slack\.com\/services\/|\/api\/webhooks\/)(.+)$/);
  if (hook) return [hook[1]!];
  const b = s.indexOf('PRIVATE KEY-----');
  if (b < 0) return [s];
  const e = s.indexOf('-----END', b);
  const body = s.slice(b + 16, e);
  // base64 lines, whatever the newlines became (\n, \\n); a leading "n" of an escape is harmless
  const lines = body.match(/[A-Za-z0-9+/]{8,}={0,2}/g) ?? [];
  const id = s.match(/private_key_id\\*": ?\\*"([a-f0-9]{40})/);
  return id ? [...lines, id[1]!] : lines;
}

/** The gitleaks sample shapes, keyed by the variable name the secret is assigned to. */
const SHAPES: ((n: string, s: string) => string)[] = [
  (n, s) => `${n}="${s}"`,
  (n, s) => `${n} = "${s}"`,
  (n, s) => `${n}=${s}`,
  (n, s) => `${n} = ${s}`,
  (n, s) => `{\n    "${snake(n)}": "${s}"\n}`,
  (n, s) => `{"config.ini": "${n}=${json1(s)}\\nBACKUP_ENABLED=true"}`,
  (n, s) => `<${camel(n)}>\n    ${s}\n</${camel(n)}>`,
  (n, s) => `${snake(n)}: ${s}`,
  (n, s) => `${snake(n)}: '${s}'`,
  (n, s) => `${snake(n)}: "${s}"`,
  (n, s) => `string ${camel(n)} = "${s}";`,
  (n, s) => `var ${camel(n)} string = "${s}"`,
  (n, s) => `${camel(n)} := "${s}"`,
  (n, s) => `${camel(n)} := \`${s}\``,
  (n, s) => `String ${camel(n)} = "${s}";`,
  (n, s) => `var ${camel(n)} = "${s}"`,
  (n, s) => `$${camel(n)} .= "${s}"`,
  (n, s) => `${snake(n)} = '${s}'`,
  (n, s) => `${snake(n)} = "${s}"`,
  (n, s) => `System.setProperty("${n}", "${s}")`,
  (n, s) => `  "${camel(n)}" => "${s}"`,
  (n, s) => `${n} := "${s}"`,
  (n, s) => `${n} ::= "${s}"`,
  (n, s) => `${n} ?= "${s}"`,
];

const ENV_NOISE = ['NODE_ENV=production', 'PORT=8080', 'LOG_LEVEL=info', 'DATABASE_POOL_SIZE=10', 'FEATURE_NEW_UI=true', 'REGION=eu-west-1', 'TIMEOUT_MS=30000'];

export const CONTEXTS: Record<string, Context> = {
  env(fmt, s, r) {
    if (multiline(s) && !s.startsWith('-----')) return null;
    const n = r.pick(fmt.names);
    const v = multiline(s) ? `"${s.replace(/\n/g, '\\n')}"` : r.pick([s, `"${s}"`, `'${s}'`]);
    const lines = [r.pick(ENV_NOISE), `${n}=${v}`, r.pick(ENV_NOISE)];
    return one(`Add these to your \`.env\`:\n\n\`\`\`dotenv\n${lines.join('\n')}\n\`\`\`\n`, multiline(s) ? s.replace(/\n/g, '\\n') : s);
  },
  shape(fmt, s, r) {
    if (multiline(s)) return null;
    const shape = r.pick(SHAPES);
    return one(`\`\`\`\n${shape(r.pick(fmt.names), s)}\n\`\`\`\n`, s);
  },
  sdk(fmt, s, r) {
    if (multiline(s)) return null;
    const n = r.pick(fmt.names);
    const snippets = [
      `\`\`\`python\nimport os\n\nos.environ["${n}"] = "${s}"\nclient = make_client()\n\`\`\``,
      `\`\`\`ts\nprocess.env.${n} ??= "${s}";\nconst client = createClient();\n\`\`\``,
      `\`\`\`go\nos.Setenv("${n}", "${s}")\n\`\`\``,
      `\`\`\`ts\nconst client = new Client({\n  ${camel(n)}: "${s}",\n  timeout: 30_000,\n});\n\`\`\``,
      `\`\`\`python\nclient = Client(\n    ${snake(n)}="${s}",\n    timeout=30,\n)\n\`\`\``,
    ];
    return one(`Here is the client setup:\n\n${r.pick(snippets)}\n`, s);
  },
  ciYaml(fmt, s, r) {
    if (multiline(s)) return null;
    const n = r.pick(fmt.names);
    const gh = `\`\`\`yaml\nname: deploy\non: [push]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      ${n}: ${r.pick([s, `"${s}"`])}\n    steps:\n      - uses: actions/checkout@v4\n      - run: make deploy\n\`\`\``;
    const gl = `\`\`\`yaml\nvariables:\n  ${n}: "${s}"\n  GIT_DEPTH: "10"\ndeploy:\n  script:\n    - ./deploy.sh\n\`\`\``;
    return one(r.pick([gh, gl]) + '\n', s);
  },
  curl(fmt, s, r) {
    if (multiline(s) || s.length < 16 || s.startsWith('https://')) return null;
    const forms = [
      `curl https://api.example.com/v1/items \\\n  -H "Authorization: Bearer ${s}" \\\n  -H "Content-Type: application/json"`,
      `curl -sS -H 'Authorization: Bearer ${s}' https://api.example.com/v1/me`,
    ];
    return one(`\`\`\`bash\n${r.pick(forms)}\n\`\`\`\n`, s);
  },
  mcp(fmt, s, r) {
    const n = r.pick(fmt.names);
    const cfg = { mcpServers: { [r.pick(['github', 'stripe', 'db', 'search'])]: { command: 'npx', args: ['-y', '@acme/mcp-server'], env: { [n]: s } } } };
    const text = JSON.stringify(cfg, null, 2);
    return one(`Add this to \`.mcp.json\`:\n\n\`\`\`json\n${text}\n\`\`\`\n`, json1(s));
  },
  toolArgs(fmt, s, r) {
    // a tool call echoed as text: its arguments are a JSON document inside a JSON string
    const n = r.pick(fmt.names);
    const args = JSON.stringify({ path: '.env', content: `${n}=${s}\n` });
    return one(`{"type":"function","name":"write_file","arguments":${JSON.stringify(args)}}`, json1(json1(s)));
  },
  log(fmt, s, r) {
    if (multiline(s)) return null;
    const n = r.pick(fmt.names);
    const lines = [
      `2026-03-02T10:14:07.123Z INFO  boot: loaded config ${n}=${s} region=eu-west-1`,
      `[2026-03-02 10:14:07] DEBUG env ${snake(n)}="${s}" pid=4121`,
      `time="2026-03-02T10:14:07Z" level=warning msg="using ${snake(n)}: ${s}" component=auth`,
    ];
    return one(`The log shows:\n\n\`\`\`\n${r.pick(lines)}\n2026-03-02T10:14:08.001Z INFO  server listening on :8080\n\`\`\`\n`, s);
  },
  prose(fmt, s, r) {
    if (multiline(s)) return null;
    if (fmt.contextual) return one(`Then run \`export ${r.pick(fmt.names)}=${s}\` and restart the worker.`, s);
    const forms = [`Your key is ${s} — keep it out of git.`, `I found \`${s}\` hard-coded in config.ts; rotate it.`, `Use ${s}, then call the API.`];
    return one(r.pick(forms), s);
  },
  dockerLogin(fmt, s, r) {
    if (multiline(s) || s.startsWith('https://')) return null;
    const forms = [
      `docker login -u ci-bot -p ${s} registry.example.com`,
      `docker login registry.gitlab.com -u deployer --password '${s}'`,
      `docker login --username ci --password "${s}" ghcr.io`,
      `helm registry login oci.example.com --username ci --password ${s}`,
    ];
    return one(`\`\`\`bash\n${r.pick(forms)}\n\`\`\`\n`, s);
  },
  urlCreds(fmt, s, r) {
    if (multiline(s) || s.startsWith('https://')) return null;
    const e = encodeURIComponent(s);
    const forms = [
      `DATABASE_URL=postgres://app:${e}@db.internal:5432/app`,
      `git clone https://x-access-token:${e}@github.com/acme/infra.git`,
      `REDIS_URL=rediss://default:${e}@cache.example.net:6380/0`,
      `pip install --index-url https://ci:${e}@pypi.example.com/simple/ acme-lib`,
      `mongodb+srv://admin:${e}@cluster0.abcde.mongodb.net/?retryWrites=true`,
    ];
    return one(`\`\`\`\n${r.pick(forms)}\n\`\`\`\n`, e);
  },
  k8sSecret(fmt, s, r) {
    const b = Buffer.from(s).toString('base64');
    const key = fmt.type === 'gcp-service-account' ? 'key.json' : r.pick(['token', 'value', snake(r.pick(fmt.names))]);
    return one(`\`\`\`yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\ntype: Opaque\ndata:\n  ${key}: ${b}\n\`\`\`\n`, b);
  },
  base64Var(fmt, s, r) {
    // a CI variable holding a base64 file (GOOGLE_CREDENTIALS_B64, SSH_KEY_B64)
    const b = Buffer.from(s).toString('base64');
    return one(`\`\`\`bash\nexport ${r.pick(['GCP_SA_KEY_B64', 'CREDENTIALS_B64', 'DEPLOY_KEY_BASE64'])}="${b}"\n\`\`\`\n`, b);
  },
  urlEncoded(fmt, s, r) {
    if (multiline(s) || s.startsWith('https://')) return null;
    const e = encodeURIComponent(s);
    const n = snake(r.pick(fmt.names));
    const forms = [
      `curl -X POST https://auth.example.com/oauth/token -d "grant_type=client_credentials&client_id=ci&${n}=${e}"`,
      `GET /callback?state=af31&${n}=${e}&scope=read HTTP/1.1`,
      `https://api.example.com/v2/export?format=csv&${n}=${e}`,
    ];
    return one(r.pick(forms) + '\n', e);
  },
  unicodeEscaped(fmt, s, r) {
    if (multiline(s)) return null;
    // a serializer that escapes every character (or HTML-unsafe ones, as Go's encoding/json does)
    const full = [...s].map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('');
    const n = r.pick(fmt.names);
    return one(`{"${n}":"${full}","region":"eu-west-1"}`, full);
  },
  newlineEscaped(fmt, s, r) {
    // a file written by a tool call: one JSON string with \n between lines
    const n = r.pick(fmt.names);
    const body = multiline(s) ? `${json1(s)}\\n` : `${r.pick(ENV_NOISE)}\\n${n}=${json1(s)}\\n${r.pick(ENV_NOISE)}\\n`;
    return one(`{"file_path":"/srv/app/${multiline(s) ? 'key.pem' : '.env'}","content":"${body}"}`, json1(s));
  },
};

/** Contexts for a format: contextual values only where a name is present, files where files go. */
export function contextsFor(fmt: SecretFormat): string[] {
  if (fmt.type === 'gcp-service-account') return ['k8sSecret', 'base64Var', 'newlineEscaped', 'mcpFile'];
  if (fmt.type.startsWith('private-key')) return ['newlineEscaped', 'k8sSecret', 'base64Var', 'env', 'pemText'];
  if (fmt.type === 'registry-password') return ['dockerLogin', 'env', 'ciYaml', 'shape', 'urlEncoded'];
  if (fmt.type === 'basic-auth-url') return ['urlCreds'];
  if (fmt.type === 'generic-password') return ['env', 'shape', 'sdk', 'ciYaml', 'mcp', 'toolArgs', 'log', 'dockerLogin', 'urlCreds', 'urlEncoded', 'unicodeEscaped', 'newlineEscaped'];
  const keyed = ['env', 'shape', 'sdk', 'ciYaml', 'mcp', 'toolArgs', 'log', 'urlEncoded', 'unicodeEscaped', 'newlineEscaped'];
  if (fmt.contextual) return [...keyed, 'prose', 'curl'];
  return [...keyed, 'prose', 'curl', 'k8sSecret', 'urlCreds'];
}

// file contexts for multi-line material
CONTEXTS.pemText = (fmt, s) => one(`Save this as \`deploy_key\`:\n\n\`\`\`\n${s}\n\`\`\`\n`, s);
CONTEXTS.mcpFile = (fmt, s) => one(`Save the key as \`sa.json\`:\n\n\`\`\`json\n${s}\n\`\`\`\n`, s);
