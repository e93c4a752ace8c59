// Look-alikes that are not secrets, by category, from the public rule sets' false-positive lists
// and allowlists (gitleaks fps examples and global allowlist: ${VAR}, {{ … }}, %VAR%, true/false,
// repeated characters, /home paths; detect-secrets' filters: placeholders, UUIDs, sequential
// strings, templated values; AWS's documented example keys) and what assistants print around
// credentials: masked values, ciphertext (SealedSecrets, SOPS, Vault transit, Ansible Vault),
// hashes, identifiers, images, public keys. Each must pass through unchanged.
import type { Rng } from '../corpus/rng.js';

export interface Negative {
  category: string;
  text: string;
}

const HEX = '0123456789abcdef';
const AN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64 = AN + '+/';
const DI = '0123456789';
const uuid = (r: Rng) => `${r.str(HEX, 8)}-${r.str(HEX, 4)}-4${r.str(HEX, 3)}-a${r.str(HEX, 3)}-${r.str(HEX, 12)}`;
const b64 = (r: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => r.int(256))).toString('base64');

const NAMES = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'DB_PASSWORD', 'STRIPE_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY', 'JWT_SECRET', 'SLACK_BOT_TOKEN', 'DATADOG_API_KEY', 'TWILIO_AUTH_TOKEN'];
const lower = (n: string) => n.toLowerCase();

/** A value in one of the contexts positives use, so context alone never tells them apart. */
function place(r: Rng, name: string, value: string): string {
  const forms = [
    `\`\`\`dotenv\n${name}=${value}\n\`\`\``,
    `\`\`\`yaml\nenv:\n  ${name}: "${value}"\n\`\`\``,
    `\`\`\`json\n{\n  "${lower(name)}": ${JSON.stringify(value)}\n}\n\`\`\``,
    `\`\`\`python\n${lower(name)} = "${value}"\n\`\`\``,
    `Set \`${name}\` to \`${value}\` before starting.`,
  ];
  return r.pick(forms);
}

type Gen = (r: Rng) => string;

export const NEGATIVE_CATEGORIES: Record<string, Gen> = {
  'aws-documented-example': (r) =>
    r.pick([
      () => place(r, 'AWS_ACCESS_KEY_ID', r.pick(['AKIAIOSFODNN7EXAMPLE', 'AKIAI44QH8DHBEXAMPLE', 'ASIAIOSFODNN7EXAMPLE'])),
      () => place(r, 'AWS_SECRET_ACCESS_KEY', r.pick(['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY'])),
      () => `\`\`\`ini\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\`\`\``,
      () => `The access key looks like AKIAIOSFODNN7EXAMPLE and the secret like wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY (from the AWS docs).`,
      () => `aws configure set aws_access_key_id AKIAI44QH8DHBEXAMPLE --profile ${r.pick(['dev', 'ci', 'prod', 'sandbox'])}${r.int(20)}`,
      () => `export AWS_SECRET_ACCESS_KEY=${r.pick(['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY'])} # example from the AWS docs, step ${r.int(30)}`,
    ])(),
  'masked-value': (r) => {
    const name = r.pick(NAMES);
    const rule = r.pick(['openai-api-key', 'github-pat', 'generic-password', 'aws-secret-access-key', 'generic-api-key']);
    return r.pick([
      () => place(r, name, `[MASKED:${rule}#${1 + r.int(9)}]`),
      () => place(r, name, r.pick(['********', '****************', '••••••••', '<redacted>', '[REDACTED]', '[hidden]'])),
      () => `Your key \`sk-proj-...${r.str(AN, 4)}\` was rotated; the new one ends in \`...${r.str(AN, 4)}\`.`,
      () => `Authorization: Bearer [MASKED:bearer-token#${1 + r.int(5)}]`,
    ])();
  },
  'env-reference': (r) => {
    const name = r.pick(NAMES);
    return r.pick([
      () => place(r, name, `\${${name}}`),
      () => place(r, name, `$${name}`),
      () => `\`\`\`yaml\nenv:\n  ${name}: \${{ secrets.${name} }}\n\`\`\``,
      () => `\`\`\`ts\nconst client = new Client({ apiKey: process.env.${name} });\n\`\`\``,
      () => `\`\`\`python\n${lower(name)} = os.environ["${name}"]\n\`\`\``,
      () => `\`\`\`yaml\n${lower(name)}: {{ .Values.secrets.${lower(name)} }}\n\`\`\``,
      () => `set ${name}=%${name}%`,
      () => `\`\`\`bash\ncurl -H "Authorization: Bearer $${name}" https://api.example.com/v1/me\n\`\`\``,
      () => `docker login -u ci -p "$CI_REGISTRY_PASSWORD" $CI_REGISTRY`,
    ])();
  },
  'angle-placeholder': (r) =>
    place(r, r.pick(NAMES), r.pick(['<your-api-key>', '<YOUR_TOKEN>', 'YOUR_API_KEY_HERE', 'your-secret-key-here', '<password>', '[YOUR_KEY]', 'INSERT_YOUR_KEY_HERE', '<paste-token-here>', 'REPLACE_WITH_YOUR_KEY', 'your_api_key'])),
  filler: (r) =>
    place(r, r.pick(NAMES), r.pick([
      'sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', 'changeme', 'change-me-please', 'replace-me',
      'xxxxxxxx', 'xxxx-xxxx-xxxx-xxxx', '0000000000000000000000000000000000000000', 'TODO', 'dummy-token', 'sk-ant-xxxxxxxxxxxxxxxx', 'AKIAXXXXXXXXXXXXXXXX', 'secret', 'password',
    ])),
  'sealed-secret': (r) =>
    `\`\`\`yaml\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    ${r.pick(['password', 'DB_PASSWORD', 'api-key', 'token'])}: Ag${b64(r, 300 + r.int(200)).replace(/=+$/, '')}\n\`\`\``,
  sops: (r) =>
    `\`\`\`yaml\n${r.pick(['db_password', 'api_key', 'stripe_secret_key', 'token'])}: ENC[AES256_GCM,data:${b64(r, 24 + r.int(40))},iv:${b64(r, 32)},tag:${b64(r, 16)},type:str]\nsops:\n    kms: []\n    lastmodified: "2026-02-01T10:00:00Z"\n    mac: ENC[AES256_GCM,data:${b64(r, 48)},iv:${b64(r, 32)},tag:${b64(r, 16)},type:str]\n\`\`\``,
  'vault-transit': (r) => place(r, r.pick(NAMES), `vault:v${1 + r.int(3)}:${b64(r, 48 + r.int(40))}`),
  'ansible-vault': (r) => {
    const hex = r.str(HEX, 320);
    return `\`\`\`yaml\n${r.pick(['db_password', 'api_token'])}: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  ${hex.match(/.{1,80}/g)!.join('\n  ')}\n\`\`\``;
  },
  hashes: (r) =>
    r.pick([
      () => `commit ${r.str(HEX, 40)}\nAuthor: Dev <dev@example.com>`,
      () => `\`\`\`\n${r.str(HEX, 64)}  release.tar.gz\n\`\`\``,
      () => `"integrity": "sha512-${b64(r, 64)}"`,
      () => `image: ghcr.io/acme/api@sha256:${r.str(HEX, 64)}`,
      () => `md5: ${r.str(HEX, 32)}  sha1: ${r.str(HEX, 40)}`,
      () => `\`\`\`json\n{ "checksum": "${r.str(HEX, 64)}", "etag": "\\"${r.str(HEX, 32)}\\"" }\n\`\`\``,
      () => `golang.org/x/net v0.30.0 h1:${b64(r, 32)}`,
      () => `cache_key: deps-${r.str(HEX, 40)}`,
    ])(),
  uuids: (r) =>
    r.pick([
      () => `X-Request-Id: ${uuid(r)}`,
      () => `\`\`\`json\n{ "id": "${uuid(r)}", "tenant_id": "${uuid(r)}", "status": "ok" }\n\`\`\``,
      () => `AZURE_CLIENT_ID=${uuid(r)}\nAZURE_TENANT_ID=${uuid(r)}\nAZURE_SUBSCRIPTION_ID=${uuid(r)}`,
      () => `trace_id=${r.str(HEX, 32)} span_id=${r.str(HEX, 16)}`,
      () => `The run ${uuid(r)} finished in 42 s.`,
    ])(),
  'base64-image': (r) =>
    r.pick([
      () => `<img alt="logo" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA${b64(r, 120 + r.int(200))}" />`,
      () => `background: url("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmci${b64(r, 90)}");`,
      () => `\`\`\`json\n{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQSkZJRgABAQ${b64(r, 200)}"}}\n\`\`\``,
    ])(),
  'public-material': (r) =>
    r.pick([
      () => `\`\`\`\n-----BEGIN PUBLIC KEY-----\n${b64(r, 294).match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n\`\`\``,
      () => `\`\`\`\n-----BEGIN CERTIFICATE-----\n${b64(r, 600).match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n\`\`\``,
      () => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${b64(r, 32).replace(/=+$/, '')} dev@laptop`,
      () => place(r, 'STRIPE_PUBLISHABLE_KEY', `pk_live_${r.str(AN, 99)}`),
      () => place(r, 'NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY', `pk_test_${r.str(AN, 40)}`),
    ])(),
  'code-reference': (r) => {
    const name = r.pick(NAMES);
    const v = r.pick(['apiKey', 'token', 'password', 'clientSecret', 'secretKey', 'accessToken', 'authToken']);
    const src = r.pick(['config', 'settings', 'opts', 'env', 'vault', 'secrets']);
    return r.pick([
      () => `\`\`\`ts\nconst ${v} = await load${v[0]!.toUpperCase() + v.slice(1)}(${src}.region);\nconst token = session.accessToken ?? refreshToken;\n\`\`\``,
      () => `\`\`\`python\n${lower(name)} = getpass.getpass("${name}: ")\nsecret_key = ${src}.SECRET_KEY\n\`\`\``,
      () => `\`\`\`go\n${v}, err := auth.New${v[0]!.toUpperCase() + v.slice(1)}(ctx, ${src}.ClientSecret)\n\`\`\``,
      () => `\`\`\`ts\nheaders: { Authorization: \`Bearer \${${v}}\` },\n\`\`\``,
      () => `\`\`\`java\nString ${v} = System.getenv("${name}");\n\`\`\``,
      () => `\`\`\`ts\nfunction rotate(${v}: string): Promise<RotateResponse> {\n  return client.keys.rotate({ key: ${v} });\n}\n\`\`\``,
      () => `\`\`\`python\nclient = Client(${v.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}=${src}.${v})\n\`\`\``,
      () => `\`\`\`yaml\n- name: ${name}\n  valueFrom:\n    secretKeyRef: { name: app-secrets, key: ${lower(name).replace(/_/g, '-')} }\n\`\`\``,
    ])();
  },
  'version-or-model': (r) =>
    r.pick([
      () => `model: "${r.pick(['claude-3-5-sonnet-20241022', 'gpt-4o-mini-2024-07-18', 'gemini-2.0-flash-001', 'claude-sonnet-4-20250514', 'text-embedding-3-large'])}"`,
      () => `image: node:${20 + r.int(5)}.${r.int(20)}.${r.int(9)}-bookworm-slim`,
      () => `version = "${r.int(9)}.${r.int(30)}.${r.int(30)}-rc.${r.int(9)}+build.${r.str(HEX, 7)}"`,
      () => `"@anthropic-ai/sdk": "^0.${30 + r.int(30)}.${r.int(9)}"`,
      () => `ami-0${r.str(HEX, 16)} in eu-west-1`,
    ])(),
  'url-without-credentials': (r) =>
    r.pick([
      () => `POST https://api.openai.com/v1/chat/completions`,
      () => `git clone git@github.com:acme/infra.git`,
      () => `DATABASE_URL=postgres://localhost:5432/app`,
      () => `DATABASE_URL=postgres://app:\${DB_PASSWORD}@db:5432/app`,
      () => `SENTRY_DSN=https://${r.str(HEX, 32)}@o${r.str(DI, 6)}.ingest.sentry.io/${r.str(DI, 7)}`,
      () => `redis://redis:6379/0`,
      () => `https://user@example.com:8443/path?q=1`,
      () => `https://example.com/search?q=api+key+rotation&page=2`,
    ])(),
  'prose-mention': (r) => {
    const name = r.pick(NAMES);
    const n = 8 + r.int(24);
    return r.pick([
      `The password must be at least ${n} characters long and contain a digit.`,
      `Rotate your API key from the dashboard, then update \`${name}\` in your CI settings.`,
      `The access token expires after ${n} minutes; use the refresh token to get a new one.`,
      `Never paste your secret key into a chat. Store \`${name}\` in a secret manager instead.`,
      `Set the \`Authorization\` header to \`Bearer\` followed by your token (${n} characters or more).`,
      `token: the session token returned by the login endpoint after ${n} seconds`,
      `If \`${name}\` is missing, the client raises \`AuthenticationError\` and exits with code ${n}.`,
      `Your password is stored as a bcrypt hash with cost ${n % 8 + 10}.`,
    ]);
  },
  identifiers: (r) =>
    r.pick([
      () => `customer: cus_${r.str(AN, 14)}, payment_intent: pi_${r.str(AN, 24)}`,
      () => `arn:aws:iam::${r.str(DI, 12)}:role/deploy-${r.str('abcdefghij', 6)}`,
      () => `Posted to channel C0${r.str('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 8)} as U0${r.str('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 8)}.`,
      () => `chat_id: -100${r.str(DI, 10)}`,
      () => `discord user id ${r.str(DI, 18)}`,
      () => `price_id: price_1${r.str(AN, 23)}`,
      () => `client_id: ${r.str(DI, 12)}-${r.str('abcdefghijklmnopqrstuvwxyz0123456789', 32)}.apps.googleusercontent.com`,
    ])(),
  'encoded-benign': (r) =>
    r.pick([
      () => `echo ${Buffer.from(r.pick(['hello world from the build', 'apiVersion: v1\nkind: ConfigMap', '{"feature":"on","ratio":0.25}'])).toString('base64')} | base64 -d`,
      () => `\`\`\`yaml\ndata:\n  config.yaml: ${Buffer.from('log_level: info\nport: 8080\n').toString('base64')}\n\`\`\``,
      () => `https://example.com/search?q=${encodeURIComponent(r.pick(['how to rotate an api key?', 'password reset & 2fa', 'token / session']))}`,
      () => `{"message":"caf\\u00e9 \\u2014 ${r.pick(['na\\u00efve', 'd\\u00e9j\\u00e0 vu', '\\u00fcber'])}"}`,
      () => `{"content":"line one\\nline two\\nPORT=${1000 + r.int(9000)}\\n"}`,
      () => `echo ${Buffer.from(`build ${r.int(1e6)} ok at ${r.int(24)}:${r.int(60)}`).toString('base64')} | base64 -d`,
    ])(),
};

export function generateNegatives(r: Rng, perCategory: number): Negative[] {
  const out: Negative[] = [];
  for (const [category, gen] of Object.entries(NEGATIVE_CATEGORIES)) {
    const seen = new Set<string>();
    for (let i = 0; i < perCategory * 8 && seen.size < perCategory; i++) seen.add(gen(r));
    for (const text of seen) out.push({ category, text });
  }
  return out;
}
