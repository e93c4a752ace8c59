// Generates the masking corpus under test/fixtures/mask/ (deterministic, seeded):
//   positives.jsonl  {id, rule, context, text, secrets[]}: every listed secret must be masked
//   negatives.jsonl  {id, rule, context, text}: the text must come out unchanged
// The key formats here are written from the providers' documentation independently of the
// catalog, so the corpus checks the catalog rather than restating it.
// Run: npx tsx test/mask/corpus/generate.ts
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { rng, type Rng } from './rng.js';

export interface PositiveCase {
  id: string;
  rule: string;
  context: string;
  text: string;
  secrets: string[];
}
export interface NegativeCase {
  id: string;
  rule: string;
  context: string;
  text: string;
}

const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LO = 'abcdefghijklmnopqrstuvwxyz';
const DI = '0123456789';
const B62 = UP + LO + DI;
const B64URL = B62 + '-_';
const B64 = B62 + '+/';
const HEX = '0123456789abcdef';
const LETTERS = UP + LO;
const UPDI = UP + DI;
const LODI = LO + DI;
const AWS32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BECH32 = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';

export function makeGenerators(r: Rng) {
  const s = (alpha: string, n: number) => r.str(alpha, n);
  const uuid = () => `${s(HEX, 8)}-${s(HEX, 4)}-4${s(HEX, 3)}-a${s(HEX, 3)}-${s(HEX, 12)}`;
  const b64 = (bytes: number) => Buffer.from(Array.from({ length: bytes }, () => r.int(256))).toString('base64');
  const b64url = (o: object | string) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

  // token formats: rule → makers; the env name is used by contexts that need one
  const tokens: Record<string, { env: string; make: (() => string)[] }> = {
    'anthropic-admin-key': { env: 'ANTHROPIC_ADMIN_KEY', make: [() => `sk-ant-admin01-${s(B64URL, 93)}AA`] },
    'anthropic-api-key': { env: 'ANTHROPIC_API_KEY', make: [() => `sk-ant-api03-${s(B64URL, 93)}AA`] },
    'openrouter-api-key': { env: 'OPENROUTER_API_KEY', make: [() => `sk-or-v1-${s(HEX, 64)}`] },
    'langfuse-secret-key': { env: 'LANGFUSE_SECRET_KEY', make: [() => `sk-lf-${uuid()}`] },
    'openai-api-key': {
      env: 'OPENAI_API_KEY',
      make: [
        () => `sk-proj-${s(B64URL, 156)}`,
        () => `sk-${s(B62, 20)}T3BlbkFJ${s(B62, 20)}`,
        () => `sk-svcacct-${s(B64URL, 140)}`,
        () => `sk-admin-${s(B64URL, 120)}`,
        () => `sk-${s(HEX, 32)}`,
      ],
    },
    'groq-api-key': { env: 'GROQ_API_KEY', make: [() => `gsk_${s(B62, 52)}`] },
    'xai-api-key': { env: 'XAI_API_KEY', make: [() => `xai-${s(B62, 80)}`] },
    'perplexity-api-key': { env: 'PERPLEXITY_API_KEY', make: [() => `pplx-${s(B62, 48)}`] },
    'replicate-api-token': { env: 'REPLICATE_API_TOKEN', make: [() => `r8_${s(B62, 37)}`] },
    'fireworks-api-key': { env: 'FIREWORKS_API_KEY', make: [() => `fw_${s(B62, 24)}`] },
    'huggingface-token': { env: 'HF_TOKEN', make: [() => `hf_${s(LETTERS, 34)}`] },
    'huggingface-org-token': { env: 'HF_ORG_TOKEN', make: [() => `api_org_${s(LETTERS, 34)}`] },
    'langsmith-api-key': { env: 'LANGSMITH_API_KEY', make: [() => `lsv2_pt_${s(HEX, 32)}_${s(HEX, 10)}`, () => `lsv2_sk_${s(HEX, 32)}_${s(HEX, 10)}`] },
    'pinecone-api-key': { env: 'PINECONE_API_KEY', make: [() => `pcsk_${s(B62, 5)}_${s(B62, 62)}`] },
    'tavily-api-key': { env: 'TAVILY_API_KEY', make: [() => `tvly-${s(B62, 32)}`, () => `tvly-dev-${s(B62, 32)}`] },
    'firecrawl-api-key': { env: 'FIRECRAWL_API_KEY', make: [() => `fc-${s(HEX, 32)}`] },
    'e2b-api-key': { env: 'E2B_API_KEY', make: [() => `e2b_${s(HEX, 40)}`] },
    'browserbase-api-key': { env: 'BROWSERBASE_API_KEY', make: [() => `bb_live_${s(B64URL, 27)}`] },
    'anyscale-api-key': { env: 'ANYSCALE_API_KEY', make: [() => `esecret_${s(B62, 26)}`] },
    'elevenlabs-api-key': { env: 'ELEVENLABS_API_KEY', make: [() => `sk_${s(HEX, 48)}`] },
    'github-pat': { env: 'GITHUB_TOKEN', make: [() => `ghp_${s(B62, 36)}`] },
    'github-oauth-token': { env: 'GH_OAUTH_TOKEN', make: [() => `gho_${s(B62, 36)}`] },
    'github-user-to-server-token': { env: 'GH_USER_TOKEN', make: [() => `ghu_${s(B62, 36)}`] },
    'github-app-token': { env: 'GITHUB_TOKEN', make: [() => `ghs_${s(B62, 36)}`] },
    'github-refresh-token': { env: 'GH_REFRESH_TOKEN', make: [() => `ghr_${s(B62, 76)}`] },
    'github-fine-grained-pat': { env: 'GH_TOKEN', make: [() => `github_pat_${s(B62, 22)}_${s(B62, 59)}`] },
    'gitlab-pat': { env: 'GITLAB_TOKEN', make: [() => `glpat-${s(B64URL, 20)}`] },
    'gitlab-pipeline-trigger-token': { env: 'GITLAB_TRIGGER_TOKEN', make: [() => `glptt-${s(HEX, 40)}`] },
    'gitlab-runner-token': { env: 'RUNNER_TOKEN', make: [() => `glrt-${s(B64URL, 20)}`, () => `GR1348941${s(B64URL, 20)}`] },
    'gitlab-deploy-token': { env: 'DEPLOY_TOKEN', make: [() => `gldt-${s(B64URL, 20)}`] },
    'gitlab-feed-token': { env: 'FEED_TOKEN', make: [() => `glft-${s(B64URL, 20)}`] },
    'gitlab-oauth-secret': { env: 'GITLAB_OAUTH_SECRET', make: [() => `gloas-${s(HEX, 64)}`] },
    'gitlab-ci-job-token': { env: 'CI_JOB_TOKEN', make: [() => `glcbt-${s(HEX, 2)}_${s(B64URL, 20)}`] },
    'gitlab-agent-token': { env: 'AGENT_TOKEN', make: [() => `glagent-${s(B64URL, 50)}`] },
    'bitbucket-app-password': { env: 'BITBUCKET_APP_PASSWORD', make: [() => `ATBB${s(B62, 32)}${s(HEX, 8).toUpperCase()}`] },
    'circleci-token': { env: 'CIRCLECI_TOKEN', make: [() => `CCIPAT_${s(B62, 22)}_${s(HEX, 40)}`] },
    'buildkite-token': { env: 'BUILDKITE_API_TOKEN', make: [() => `bkua_${s(HEX, 40)}`] },
    'sonarqube-token': { env: 'SONAR_TOKEN', make: [() => `squ_${s(HEX, 40)}`, () => `sqp_${s(HEX, 40)}`] },
    'aws-access-key-id': { env: 'AWS_ACCESS_KEY_ID', make: [() => `AKIA${s(AWS32, 16)}`, () => `ASIA${s(AWS32, 16)}`] },
    'gcp-api-key': { env: 'GEMINI_API_KEY', make: [() => `AIza${s(B64URL, 35)}`] },
    'gcp-oauth-client-secret': { env: 'GOOGLE_CLIENT_SECRET', make: [() => `GOCSPX-${s(B64URL, 28)}`] },
    'google-oauth-access-token': { env: 'GOOGLE_ACCESS_TOKEN', make: [() => `ya29.${s(B64URL, 150)}`] },
    'google-oauth-refresh-token': { env: 'GOOGLE_REFRESH_TOKEN', make: [() => `1//0${s(B64URL, 100)}`] },
    'digitalocean-token': { env: 'DIGITALOCEAN_TOKEN', make: [() => `dop_v1_${s(HEX, 64)}`, () => `doo_v1_${s(HEX, 64)}`] },
    'databricks-token': { env: 'DATABRICKS_TOKEN', make: [() => `dapi${s(HEX, 32)}`] },
    'heroku-api-key-v2': { env: 'HEROKU_API_KEY', make: [() => `HRKU-${s(B64URL, 60)}`] },
    'hashicorp-vault-token': { env: 'VAULT_TOKEN', make: [() => `hvs.${s(B64URL, 90)}`, () => `hvb.${s(B64URL, 138)}`] },
    'pulumi-access-token': { env: 'PULUMI_ACCESS_TOKEN', make: [() => `pul-${s(HEX, 40)}`] },
    'doppler-token': { env: 'DOPPLER_TOKEN', make: [() => `dp.pt.${s(B62, 43)}`, () => `dp.st.${s(B62, 43)}`] },
    'planetscale-token': { env: 'PLANETSCALE_TOKEN', make: [() => `pscale_tkn_${s(B64URL, 43)}`, () => `pscale_pw_${s(B64URL, 43)}`] },
    'supabase-access-token': { env: 'SUPABASE_ACCESS_TOKEN', make: [() => `sbp_${s(HEX, 40)}`] },
    'supabase-secret-key': { env: 'SUPABASE_SECRET_KEY', make: [() => `sb_secret_${s(B64URL, 31)}`] },
    'netlify-token': { env: 'NETLIFY_AUTH_TOKEN', make: [() => `nfp_${s(B62, 40)}`] },
    'render-api-key': { env: 'RENDER_API_KEY', make: [() => `rnd_${s(B62, 32)}`] },
    'flyio-token': { env: 'FLY_API_TOKEN', make: [() => `fo1_${s(B64URL, 43)}`] },
    'dynatrace-api-token': { env: 'DT_API_TOKEN', make: [() => `dt0c01.${s(UPDI, 24)}.${s(UPDI, 64)}`] },
    'newrelic-api-key': { env: 'NEW_RELIC_API_KEY', make: [() => `NRAK-${s(UPDI, 27)}`] },
    'sentry-auth-token': { env: 'SENTRY_AUTH_TOKEN', make: [() => `sntrys_${s(B62, 100)}`, () => `sntryu_${s(HEX, 64)}`] },
    'grafana-cloud-token': { env: 'GRAFANA_CLOUD_TOKEN', make: [() => `glc_${s(B64, 80)}`] },
    'grafana-service-account-token': { env: 'GRAFANA_SA_TOKEN', make: [() => `glsa_${s(B62, 32)}_${s(HEX, 8)}`] },
    'jfrog-api-key': { env: 'ARTIFACTORY_API_KEY', make: [() => `AKCp${s(B62, 69)}`] },
    'npm-access-token': { env: 'NPM_TOKEN', make: [() => `npm_${s(B62, 36)}`] },
    'pypi-upload-token': { env: 'PYPI_TOKEN', make: [() => `pypi-AgEIcHlwaS5vcmc${s(B64URL, 150)}`] },
    'rubygems-api-key': { env: 'GEM_HOST_API_KEY', make: [() => `rubygems_${s(HEX, 48)}`] },
    'nuget-api-key': { env: 'NUGET_API_KEY', make: [() => `oy2${s(LODI, 43)}`] },
    'clojars-token': { env: 'CLOJARS_TOKEN', make: [() => `CLOJARS_${s(LODI, 60)}`] },
    'dockerhub-pat': { env: 'DOCKERHUB_TOKEN', make: [() => `dckr_pat_${s(B64URL, 27)}`] },
    'slack-bot-token': { env: 'SLACK_BOT_TOKEN', make: [() => `xoxb-${s(DI, 12)}-${s(DI, 13)}-${s(B62, 24)}`] },
    'slack-user-token': { env: 'SLACK_USER_TOKEN', make: [() => `xoxp-${s(DI, 12)}-${s(DI, 12)}-${s(DI, 13)}-${s(HEX, 32)}`] },
    'slack-app-token': { env: 'SLACK_APP_TOKEN', make: [() => `xapp-1-${s(UPDI, 11)}-${s(DI, 13)}-${s(HEX, 64)}`] },
    'slack-config-token': { env: 'SLACK_CONFIG_TOKEN', make: [() => `xoxe.xoxp-1-${s(B62, 150)}`] },
    'slack-legacy-token': { env: 'SLACK_LEGACY_TOKEN', make: [() => `xoxs-${s(DI, 12)}-${s(DI, 12)}-${s(DI, 12)}-${s(HEX, 64)}`] },
    'stripe-secret-key': { env: 'STRIPE_SECRET_KEY', make: [() => `sk_live_${s(B62, 99)}`, () => `sk_test_${s(B62, 24)}`] },
    'stripe-restricted-key': { env: 'STRIPE_RESTRICTED_KEY', make: [() => `rk_live_${s(B62, 99)}`] },
    'stripe-webhook-secret': { env: 'STRIPE_WEBHOOK_SECRET', make: [() => `whsec_${s(B62, 32)}`] },
    'square-access-token': { env: 'SQUARE_ACCESS_TOKEN', make: [() => `EAAA${s(B64URL, 60)}`, () => `sq0atp-${s(B64URL, 22)}`] },
    'square-oauth-secret': { env: 'SQUARE_OAUTH_SECRET', make: [() => `sq0csp-${s(B64URL, 43)}`] },
    'shopify-access-token': { env: 'SHOPIFY_ACCESS_TOKEN', make: [() => `shpat_${s(HEX, 32)}`, () => `shpss_${s(HEX, 32)}`] },
    'sendgrid-api-key': { env: 'SENDGRID_API_KEY', make: [() => `SG.${s(B64URL, 22)}.${s(B64URL, 43)}`] },
    'brevo-api-key': { env: 'BREVO_API_KEY', make: [() => `xkeysib-${s(HEX, 64)}-${s(B62, 16)}`] },
    'twilio-api-key': { env: 'TWILIO_API_SECRET_SID', make: [() => `SK${s(HEX, 32)}`] },
    'mailgun-api-key': { env: 'MAILGUN_API_KEY', make: [() => `key-${s(HEX, 32)}`] },
    'linear-api-key': { env: 'LINEAR_API_KEY', make: [() => `lin_api_${s(B62, 40)}`] },
    'notion-token': { env: 'NOTION_TOKEN', make: [() => `ntn_${s(B62, 46)}`, () => `secret_${s(B62, 43)}`] },
    'atlassian-api-token': { env: 'JIRA_API_TOKEN', make: [() => `ATATT3xFfGF0${s(B64URL, 170)}=${s(HEX, 8).toUpperCase()}`] },
    'postman-api-key': { env: 'POSTMAN_API_KEY', make: [() => `PMAK-${s(HEX, 24)}-${s(HEX, 34)}`] },
    'figma-pat': { env: 'FIGMA_TOKEN', make: [() => `figd_${s(B64URL, 40)}`] },
    'shippo-api-token': { env: 'SHIPPO_API_TOKEN', make: [() => `shippo_live_${s(HEX, 40)}`] },
    'readme-api-key': { env: 'README_API_KEY', make: [() => `rdme_${s(LODI, 70)}`] },
    'prefect-api-key': { env: 'PREFECT_API_KEY', make: [() => `pnu_${s(B62, 36)}`] },
    'duffel-api-token': { env: 'DUFFEL_ACCESS_TOKEN', make: [() => `duffel_test_${s(B64URL, 43)}`] },
    'typeform-api-token': { env: 'TYPEFORM_TOKEN', make: [() => `tfp_${s(B64URL, 44)}_${s(B64URL, 14)}`] },
    'infracost-api-token': { env: 'INFRACOST_API_KEY', make: [() => `ico-${s(B62, 32)}`] },
    'mapbox-secret-token': { env: 'MAPBOX_SECRET_TOKEN', make: [() => `sk.eyJ1Ijoi${s(B64URL, 40)}.${s(B64URL, 22)}`] },
    'age-secret-key': { env: 'AGE_SECRET_KEY', make: [() => `AGE-SECRET-KEY-1${s(BECH32, 58)}`] },
    'onepassword-secret-key': { env: 'OP_SECRET_KEY', make: [() => `A3-${s(UPDI, 6)}-${s(UPDI, 11)}-${s(UPDI, 5)}-${s(UPDI, 5)}-${s(UPDI, 5)}`] },
    'onepassword-service-account-token': { env: 'OP_SERVICE_ACCOUNT_TOKEN', make: [() => `ops_eyJ${s(B64, 250)}`] },
    'adobe-client-secret': { env: 'ADOBE_CLIENT_SECRET', make: [() => `p8e-${s(B62, 32)}`] },
    'airtable-pat': { env: 'AIRTABLE_TOKEN', make: [() => `pat${s(B62, 14)}.${s(HEX, 64)}`] },
    'alibaba-access-key-id': { env: 'ALIBABA_CLOUD_ACCESS_KEY_ID', make: [() => `LTAI${s(B62, 20)}`] },
    'aws-bedrock-api-key': { env: 'AWS_BEARER_TOKEN_BEDROCK', make: [() => `ABSKQmVkcm9ja0FQSUtleS1${s(B62, 108)}=`] },
    'cloudflare-origin-ca-key': { env: 'CF_ORIGIN_CA_KEY', make: [() => `v1.0-${s(HEX, 24)}-${s(HEX, 146)}`] },
    'easypost-api-key': { env: 'EASYPOST_API_KEY', make: [() => `EZAK${s(B62, 54)}`, () => `EZTK${s(B62, 54)}`] },
    'flutterwave-secret-key': { env: 'FLW_SECRET_KEY', make: [() => `FLWSECK_TEST-${s(HEX, 32)}-X`] },
    'frameio-api-token': { env: 'FRAMEIO_TOKEN', make: [() => `fio-u-${s(B64URL, 64)}`] },
    'gitlab-other-token': { env: 'GITLAB_SCIM_TOKEN', make: [() => `glsoat-${s(B64URL, 20)}`, () => `glimt-${s(B64URL, 25)}`] },
    'openshift-user-token': { env: 'OPENSHIFT_TOKEN', make: [() => `sha256~${s(B64URL, 43)}`] },
    'scalingo-api-token': { env: 'SCALINGO_API_TOKEN', make: [() => `tk-us-${s(B64URL, 48)}`] },
    'settlemint-token': { env: 'SETTLEMINT_TOKEN', make: [() => `sm_pat_${s(B62, 16)}`, () => `sm_aat_${s(B62, 16)}`] },
    'yandex-api-key': { env: 'YANDEX_API_KEY', make: [() => `AQVN${s(B64URL, 36)}`] },
  };

  const pem = (label: string, lines: number) => {
    const body = Array.from({ length: lines }, () => s(B64, 64));
    body.push(s(B64, 20) + '==');
    return `-----BEGIN ${label}-----\n${body.join('\n')}\n-----END ${label}-----`;
  };
  const jwt = () => {
    const header = b64url({ alg: r.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' });
    const payload = b64url({ sub: s(DI, 10), name: r.pick(['Ada Lovelace', 'Alan Turing', 'Grace Hopper']), iat: 1_700_000_000 + r.int(9_999_999), scope: 'read write' });
    return `${header}.${payload}.${s(B64URL, r.pick([43, 86, 342]))}`;
  };
  const password = () =>
    r.pick([
      () => s(B62 + '!@#%^*_+=-', 8 + r.int(12)),
      () => `${r.pick(['Summer', 'Winter', 'Dragon', 'Monkey', 'Falcon'])}${1990 + r.int(40)}${r.pick(['!', '#', '@', '*'])}`,
      () => `${r.pick(['hunter', 'trustno', 'letme', 'qwert'])}${r.int(90) + 10}${s(LO, 3)}`,
      () => s(LO, 14 + r.int(8)),
      () => s(B62, 24),
    ])();
  return { tokens, pem, jwt, password, uuid, b64, s };
}

// ---- contexts ---------------------------------------------------------------------------------

type Ctx = (name: string, secret: string, r: Rng) => string;

/** Contexts that need a key name (keyword rules) and that also suit prefix tokens. */
export const NAMED: Record<string, Ctx> = {
  env: (n, v) => `# .env\n${n}=${v}\nLOG_LEVEL=debug\n`,
  'env-quoted': (n, v) => `export ${n}="${v}"\n`,
  yaml: (n, v) => `service:\n  name: api\n  ${n.toLowerCase()}: ${v}\n  retries: 3\n`,
  'yaml-quoted': (n, v) => `credentials:\n  ${n.toLowerCase()}: '${v}'\n`,
  json: (n, v) => `{"name": "svc", "${n.toLowerCase()}": "${v}", "timeout": 30}`,
  'json-escaped': (n, v) => `{"path": ".env", "content": "${n}=${v}\\nDEBUG=1\\n"}`,
  'json-in-json': (n, v) => `{"arguments": "{\\"${n.toLowerCase()}\\": \\"${v}\\"}"}`,
  ts: (n, v) => `const ${camel(n)} = "${v}";\nexport default { ${camel(n)} };\n`,
  python: (n, v) => `client = Client(${n.toLowerCase()}="${v}", timeout=30)\n`,
  go: (n, v) => `\t${camel(n)} := "${v}"\n\tfmt.Println(len(${camel(n)}))\n`,
  toml: (n, v) => `[default]\n${n.toLowerCase()} = "${v}"\n`,
  properties: (n, v) => `spring.datasource.url=jdbc:postgresql://db/app\napp.${n.toLowerCase().replace(/_/g, '.')}=${v}\n`,
  xml: (n, v) => `<config><${camel(n)}>${v}</${camel(n)}></config>`,
  cli: (n, v) => `mytool deploy --${n.toLowerCase().replace(/_/g, '-')} ${v} --region eu-west-1\n`,
  header: (n, v) => `curl -H "${n.toLowerCase().replace(/_/g, '-')}: ${v}" https://api.example.com/v1/items\n`,
  markdown: (n, v) => `Set it in your shell:\n\n\`\`\`bash\nexport ${n}=${v}\n\`\`\`\n`,
};

/** Contexts for prefix tokens without a key name. */
export const BARE: Record<string, Ctx> = {
  prose: (_n, v) => `Here is the key you asked for: ${v}. Keep it private.`,
  'prose-backticks': (_n, v) => `Use \`${v}\` when the CLI asks for a token.`,
  'prose-paren': (_n, v) => `the old one (${v}) was revoked yesterday`,
  'bearer-header': (_n, v) => `Authorization: Bearer ${v}\r\n`,
  'url-param': (_n, v) => `https://api.example.com/v1/search?q=test&key=${v}&page=2`,
  'log-line': (_n, v) => `2024-05-01T10:00:00Z INFO request ok token=${v} status=200`,
  'list-item': (_n, v) => `- staging: ${v}\n- production: (ask ops)\n`,
  'json-array': (_n, v) => `["${v}"]`,
  'newline-escaped': (_n, v) => `"first line\\n${v}\\nlast line"`,
};

function camel(n: string): string {
  return n.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

// ---- generation -----------------------------------------------------------------------------

export function generate(seed = 20240501): { positives: PositiveCase[]; negatives: NegativeCase[] } {
  const r = rng(seed);
  const g = makeGenerators(r);
  const positives: PositiveCase[] = [];
  const negatives: NegativeCase[] = [];
  const pos = (rule: string, context: string, text: string, secrets: string[]) =>
    positives.push({ id: `p${String(positives.length + 1).padStart(4, '0')}`, rule, context, text, secrets });
  const neg = (rule: string, context: string, text: string) => negatives.push({ id: `n${String(negatives.length + 1).padStart(4, '0')}`, rule, context, text });

  const namedKeys = Object.keys(NAMED);
  const bareKeys = Object.keys(BARE);

  // prefix tokens: each maker in two named and one bare context
  for (const [rule, { env, make }] of Object.entries(g.tokens)) {
    for (const mk of make) {
      for (const ctx of [r.pick(namedKeys), r.pick(namedKeys), r.pick(bareKeys)]) {
        const v = mk();
        const f = NAMED[ctx] ?? BARE[ctx]!;
        pos(rule, ctx, f(env, v, r), [v]);
      }
    }
  }

  // structured formats
  for (const label of ['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'DSA PRIVATE KEY']) {
    const k = g.pem(label, 6 + r.int(20));
    const body = k.split('\n').slice(1, -1);
    pos('private-key-pem', 'pem-raw', `Save this as id_key:\n\n${k}\n\nthen chmod 600 it.`, body);
    const esc = k.replace(/\n/g, '\\n');
    pos('private-key-pem', 'pem-json-escaped', `{"type": "service_account", "project_id": "demo-1", "private_key": "${esc}\\n", "client_email": "svc@demo-1.iam.gserviceaccount.com"}`, body);
    pos('private-key-pem', 'pem-double-escaped', `{"arguments": "{\\"content\\": \\"${k.replace(/\n/g, '\\\\n')}\\"}"}`, body);
    pos('private-key-pem', 'pem-crlf', `key = """${k.replace(/\n/g, '\r\n')}"""`, body);
  }
  {
    const k = g.pem('RSA PRIVATE KEY', 8).replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,' + g.s(HEX, 32).toUpperCase() + '\n\n');
    pos('private-key-pem', 'pem-encrypted-headers', k, k.split('\n').slice(4, -1));
    const p = g.pem('PGP PRIVATE KEY BLOCK', 10).replace('-----\n', '-----\nVersion: GnuPG v2\n\n');
    pos('private-key-pem', 'pgp', p, p.split('\n').slice(3, -1));
  }
  for (let i = 0; i < 12; i++) {
    const t = g.jwt();
    const ctx = r.pick([...namedKeys, ...bareKeys]);
    const f = NAMED[ctx] ?? BARE[ctx]!;
    pos('jwt', ctx, f('ID_TOKEN', t, r), [t]);
  }
  const hosts = ['db.internal', 'localhost', '10.0.3.7', 'prod-cluster.abc123.us-east-1.rds.amazonaws.com', 'cluster0.mongodb.net'];
  for (const scheme of ['postgres', 'postgresql', 'mysql', 'mongodb+srv', 'redis', 'amqps', 'mssql', 'jdbc:postgresql']) {
    for (let i = 0; i < 2; i++) {
      const pw = g.password();
      const url = `${scheme}://app_user:${encodeURIComponent(pw)}@${r.pick(hosts)}:5432/app?sslmode=require`;
      const ctx = r.pick(['env', 'yaml', 'json', 'prose']);
      const text = ctx === 'prose' ? `Connect with ${url} from the worker.` : NAMED[ctx]!('DATABASE_URL', url, r);
      pos('database-url-password', ctx, text, [encodeURIComponent(pw)]);
    }
  }
  for (let i = 0; i < 6; i++) {
    const pw = g.password();
    const u = `https://deploy:${encodeURIComponent(pw)}@git.example.com/org/repo.git`;
    pos('url-credentials', 'git-remote', `git remote add origin ${u}`, [encodeURIComponent(pw)]);
  }
  for (let i = 0; i < 10; i++) {
    const tok = g.s(B64URL, 24 + r.int(40)) + r.pick(['', '.', '~']) + g.s(B62, 8);
    const ctx = r.pick(['raw', 'curl', 'json', 'python']);
    const text =
      ctx === 'raw'
        ? `GET /v1/me HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer ${tok}\r\n\r\n`
        : ctx === 'curl'
          ? `curl -H 'Authorization: Bearer ${tok}' https://api.example.com/v1/me`
          : ctx === 'json'
            ? `{"headers": {"Authorization": "Bearer ${tok}"}}`
            : `headers = {"authorization": f"bearer ${tok}"}`;
    pos('bearer-token', ctx, text, [tok]);
  }
  for (let i = 0; i < 8; i++) {
    const cred = Buffer.from(`${r.pick(['admin', 'ci-bot', 'deploy', 'svc_user'])}:${g.password()}`).toString('base64');
    pos('basic-auth', 'header', r.pick([`Authorization: Basic ${cred}\n`, `-H "Authorization: Basic ${cred}"`, `{"Authorization": "Basic ${cred}"}`]), [cred]);
  }
  // keyword-anchored specifics
  const kw = (rule: string, names: string[], make: () => string, n = 6) => {
    for (let i = 0; i < n; i++) {
      const v = make();
      const ctx = r.pick(namedKeys.filter((k) => k !== 'xml' || !/[<>&]/.test(v)));
      pos(rule, ctx, NAMED[ctx]!(r.pick(names), v, r), [v]);
    }
  };
  kw('aws-secret-access-key', ['AWS_SECRET_ACCESS_KEY', 'aws_secret_access_key', 'SecretAccessKey', 'AWS_SECRET_KEY'], () => g.s(B64, 40), 10);
  kw('aws-session-token', ['AWS_SESSION_TOKEN', 'aws_session_token', 'SessionToken'], () => 'IQoJb3JpZ2luX2VjE' + g.s(B64, 300));
  kw('azure-openai-api-key', ['AZURE_OPENAI_API_KEY', 'api-key', 'AZURE_OPENAI_KEY', 'Ocp-Apim-Subscription-Key'], () => g.s(HEX, 32), 8);
  kw('azure-ad-client-secret', ['AZURE_CLIENT_SECRET', 'client_secret'], () => `${g.s(B62, 3)}${r.int(10)}Q~${g.s(B62 + '_~.-', 34)}`);
  kw('gcp-service-account-key-id', ['private_key_id'], () => g.s(HEX, 40), 4);
  kw('heroku-api-key', ['HEROKU_API_KEY'], () => g.uuid(), 4);
  kw('cloudflare-api-token', ['CLOUDFLARE_API_TOKEN', 'CF_API_TOKEN'], () => g.s(B64URL, 40), 4);
  kw('datadog-api-key', ['DD_API_KEY', 'DATADOG_API_KEY', 'DD_APP_KEY'], () => g.s(HEX, 32), 4);
  kw('twilio-auth-token', ['TWILIO_AUTH_TOKEN'], () => g.s(HEX, 32), 4);
  kw('mailchimp-api-key', ['MAILCHIMP_API_KEY'], () => `${g.s(HEX, 32)}-us${1 + r.int(20)}`, 4);
  kw('telegram-bot-token', ['TELEGRAM_BOT_TOKEN', 'BOT_TOKEN'], () => `${1000000000 + r.int(899999999)}:AA${g.s(B64URL, 33)}`, 4);
  kw('discord-bot-token', ['DISCORD_BOT_TOKEN', 'DISCORD_TOKEN'], () => `${g.s(B64URL, 26)}.${g.s(B64URL, 6)}.${g.s(B64URL, 38)}`, 4);
  kw('okta-api-token', ['OKTA_API_TOKEN', 'OKTA_TOKEN'], () => `00${g.s(B64URL, 40)}`, 4);
  kw('algolia-admin-key', ['ALGOLIA_ADMIN_KEY', 'ALGOLIA_API_KEY'], () => g.s(HEX, 32), 4);
  kw('generic-password', ['DB_PASSWORD', 'password', 'MYSQL_ROOT_PASSWORD', 'db_pass', 'passwd', 'adminPassword', 'SMTP_PASS', 'redis_pwd', 'passphrase'], () => g.password(), 30);
  kw('generic-secret', ['CLIENT_SECRET', 'JWT_SECRET', 'webhook_secret', 'app_secret', 'SESSION_SECRET', 'credentials'], () => g.s(B64URL, 24 + r.int(30)), 16);
  kw('generic-token', ['ACCESS_TOKEN', 'auth_token', 'refreshToken', 'API_TOKEN', 'bot_token', 'SLACK_TOKEN', 'access-token'], () => g.s(B62, 20 + r.int(40)), 16);
  kw('generic-api-key', ['API_KEY', 'apiKey', 'x-api-key', 'SECRET_KEY', 'MAPS_API_KEY', 'encryption_key', 'signing_key', 'COHERE_API_KEY', 'MISTRAL_API_KEY'], () => g.s(B62, 32 + r.int(20)), 18);
  // prose: "<name> is <value>"
  for (let i = 0; i < 10; i++) {
    const pw = `${r.pick(['Summer', 'Falcon', 'Orange', 'Kestrel'])}${1990 + r.int(40)}${r.pick(['!', '#', '', '$'])}${g.s(B62, r.int(4))}`;
    const [rule, sentence] = r.pick([
      ['generic-password', (v: string) => `The staging DB password is ${v} until Friday.`],
      ['generic-password', (v: string) => `my password is ${v}`],
      ['generic-password', (v: string) => `FYI the admin password was '${v}' before the reset.`],
      ['generic-secret', (v: string) => `The client secret is ${g.s(B62, 10)}${v}.`],
    ] as const);
    pos(rule, 'prose-is', sentence(pw), [pw]);
  }
  // long values commit early
  kw('generic-secret', ['CLIENT_SECRET', 'JWT_SECRET'], () => g.s(B64URL, 120), 4);

  // azure connection strings and SAS
  for (let i = 0; i < 4; i++) {
    const k = g.s(B64, 86) + '==';
    pos('azure-storage-account-key', 'connection-string', `DefaultEndpointsProtocol=https;AccountName=acct${i};AccountKey=${k};EndpointSuffix=core.windows.net`, [k]);
    const sb = g.s(B64, 43) + '=';
    pos('azure-service-bus-key', 'connection-string', `Endpoint=sb://ns${i}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${sb}`, [sb]);
    const sig = g.s(B62, 40) + '%2B' + g.s(B62, 6) + '%3D';
    pos('azure-sas-signature', 'url', `https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2025-01-01T00%3A00%3A00Z&sig=${sig}`, [sig]);
  }
  for (let i = 0; i < 4; i++) {
    const path = `T${g.s(UPDI, 10)}/B${g.s(UPDI, 10)}/${g.s(B62, 24)}`;
    pos('slack-webhook-url', r.pick(['env', 'json']), NAMED.env!('SLACK_WEBHOOK_URL', `https://hooks.slack.com/services/${path}`, r), [path]);
    const d = `${g.s(DI, 18)}/${g.s(B64URL, 68)}`;
    pos('discord-webhook-url', 'json', NAMED.json!('webhook', `https://discord.com/api/webhooks/${d}`, r), [d]);
  }

  // ---- negatives --------------------------------------------------------------------------
  // near misses of every prefix token: too short, filler or placeholder markers, inside a word
  for (const [rule, { env, make }] of Object.entries(g.tokens)) {
    if (rule === 'aws-access-key-id') continue;
    // the literal prefix: what eight samples have in common
    const samples = Array.from({ length: 8 }, () => make[0]!());
    let k = 0;
    while (samples.every((x) => x[k] === samples[0]![k])) k++;
    const prefix = samples[0]!.slice(0, k);
    neg(rule, 'prose-short', `The prefix ${prefix}${g.s(LO, 4)} is too short to be a key.`);
    neg(rule, 'doc-placeholder', `${env}=${prefix}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n`);
    neg(rule, 'doc-your-key', `Set ${env} to "${prefix}your-key-here" in the dashboard.`);
  }
  neg('aws-access-key-id', 'doc-placeholder', 'AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX\n');
  neg('aws-access-key-id', 'documented-example', 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n');

  // encoded: base64 (Kubernetes Secret data) and \u escapes; the decoded form is scanned
  for (let i = 0; i < 4; i++) {
    const tk = g.tokens[r.pick(['github-pat', 'openai-api-key', 'stripe-secret-key', 'slack-bot-token'])]!;
    const b = Buffer.from(r.pick(tk.make)()).toString('base64');
    pos('base64-encoded-secret', 'k8s-secret', `apiVersion: v1\nkind: Secret\ndata:\n  token: ${b}\n`, [b]);
    const u = [...r.pick(tk.make)()].map((ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0')).join('');
    pos('unicode-escaped-secret', 'json', `{"${tk.env}":"${u}"}`, [u]);
  }
  for (let i = 0; i < 3; i++) {
    const tok = `${g.s(DI, 10)}:AA${g.s(B64URL, 33)}`;
    pos('telegram-bot-token-url', 'url', `curl "https://api.telegram.org/bot${tok}/sendMessage?chat_id=-100123&text=hi"`, [tok]);
  }
  for (let i = 0; i < 3; i++) {
    // the whole token is the secret, the 14-character id before .atlasv1. included
    const tf = `${g.s(LODI, 14)}.atlasv1.${g.s(B64URL, 67)}`;
    pos('terraform-cloud-token', 'prose', `Terraform Cloud printed ${tf} — store it as a workspace variable.`, [tf]);
    const ch = `4b1d${g.s(UP, 2)}${g.s(LO, 2)}${g.s(DI, 2)}${g.s(B62, 32)}`;
    pos('clickhouse-cloud-secret', 'prose', `The ClickHouse key secret is ${ch}.`, [ch]);
    const oc = `API-${g.s(UP, 3)}${g.s(DI, 3)}${g.s(UPDI, 20)}`;
    pos('octopus-deploy-api-key', 'cli', `octo push --package app.1.0.0.zip --server https://octopus.example.com --apiKey ${oc}`, [oc]);
  }
  neg('terraform-cloud-token', 'doc', 'TFE_TOKEN=<token>.atlasv1.<secret>');
  neg('clickhouse-cloud-secret', 'hash', 'sha1 4b1d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e');
  neg('octopus-deploy-api-key', 'prose', 'The API-FIRST approach and API-GATEWAY-2024-ROLLOUT-NOTES are docs.');
  neg('telegram-bot-token-url', 'doc', 'curl "https://api.telegram.org/bot<token>/getUpdates"');
  neg('base64-encoded-secret', 'k8s-configmap', `data:\n  config: ${Buffer.from('{\n  "log_level": "info"\n}').toString('base64')}\n`);
  neg('base64-encoded-secret', 'k8s-secret-placeholder', `data:\n  token: ${Buffer.from('ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx').toString('base64')}\n`);
  neg('unicode-escaped-secret', 'json', '{"message":"caf\\u00e9 \\u2014 na\\u00efve \\u00fcber"}');
  neg('unicode-escaped-secret', 'json', '{"html":"\\u003cdiv class=\\"token\\"\\u003e\\u0026nbsp;\\u003c/div\\u003e"}');
  neg('aws-access-key-id', 'too-long', 'The id AKIAIOSFODNN7EXAMPLEABCDEF is not a key id (26 chars).');
  neg('aws-access-key-id', 'inside-word', 'The word TAKIAIOSFODNN7EXAMPLE is not a key.');
  neg('aws-access-key-id', 'lowercase', 'akiaiosfodnn7example is lower-case, not a key id');

  const wordish = [
    'The tokenizer splits text into tokens; max_tokens caps the output length.',
    'Reset your password from the account page; the password policy needs 12 characters.',
    'Secrets belong in a vault, not in the repository.',
    'The key insight is that the cache key depends on the user id.',
    'Press the key combination Ctrl+K to open the palette.',
    'Authentication and authorization are handled by the gateway.',
    'The author passes the test suite before each release.',
    'Use a bearer token or basic authentication, never both.',
    'Bearer tokens expire after an hour; refresh them with the refresh token.',
    'The passenger list is in the manifest.',
    'Token count: 1532 prompt, 402 completion.',
    'password: required',
    'Password: (hidden)',
    'token_type: Bearer',
    'The monkey: banana relation is a joke.',
    'keyboard: us-intl',
    'secret sauce: love',
    'She said the password was "swordfish" in the movie, but that was a joke.',
    'The password is case-sensitive.',
    'Your password is required to continue.',
    'The password is incorrect or has expired.',
    'If the password is set, the secret is stored in the keychain.',
    'The secret is out: the token is valid for an hour.',
    'The password was changed 3 days ago.',
    'The API key is missing; the password is empty.',
  ];
  for (const w of wordish) neg('prose', 'prose', w);

  const code = [
    'const apiKey = process.env.OPENAI_API_KEY;',
    'api_key = os.environ["OPENAI_API_KEY"]',
    'password = os.getenv("DB_PASSWORD")',
    'token := os.Getenv("GITHUB_TOKEN")',
    'const token = await getToken();',
    'secret = load_secret("prod/db")',
    'self.password = password',
    'if (password === confirmPassword) return true;',
    'let apiKey = config.apiKey ?? "";',
    'headers["Authorization"] = `Bearer ${token}`;',
    'Authorization: Bearer $GITHUB_TOKEN',
    'Authorization: Bearer <token>',
    'Authorization: Basic <base64(user:password)>',
    'OPENAI_API_KEY=${OPENAI_API_KEY}',
    'OPENAI_API_KEY=sk-...',
    'OPENAI_API_KEY=<your-openai-key>',
    'ANTHROPIC_API_KEY="your-api-key-here"',
    'export GITHUB_TOKEN=$(gh auth token)',
    'password: "{{ vault_db_password }}"',
    'password: ********',
    'password: changeme',
    'password: "<password>"',
    'DB_PASSWORD=',
    'api_key: null',
    'token: ~',
    'secret: !vault |',
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'aws_secret_access_key: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'api-key: 00000000000000000000000000000000',
    'AZURE_OPENAI_API_KEY=<your-azure-key>',
    'client_secret: YOUR_CLIENT_SECRET',
    'JWT_SECRET=change-me-in-production',
    'SECRET_KEY = "django-insecure-example-key-for-docs"',
    'password_hint: "at least 8 characters"',
    'password_min_length: 12',
    'token_ttl: 3600',
    'max_tokens: 4096',
    '"max_tokens": 1024, "temperature": 0.2',
    'tokenizer: "cl100k_base"',
    'public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk3f2b9d4e1Xq8Zr0yV6s2uT5wN7mP9kL3jH1gF0dS user@host"',
    'sort_key: created_at',
    'primary_key: "id"',
    'cache_key = f"user:{user_id}:profile"',
    'idempotency_key: "a8098c1a-f86e-11da-bd1a-00112444be1e"',
    'key: value',
    '"key": "Content-Type"',
    'api_key_env: OPENAI_API_KEY',
    'token_url: https://oauth2.googleapis.com/token',
    'secret_name: my-app-secret-v2',
    'model_token: "gpt-4o-mini-2024-07-18"',
    'password_reset_url = "https://example.com/reset"',
    'auth: { type: "oauth2", scopes: ["read"] }',
    '"credentials": "include"',
    'api_key: "[MASKED:openai-api-key#1]"',
    'OPENAI_API_KEY=[MASKED:openai-api-key#1]',
    'def check_password(password: str) -> bool:',
    'fn token(&self) -> &str { &self.token }',
    'std::secret::Secret::new(value)',
    '--password-file /run/secrets/db_password',
    'mysql -u root -p',
    'kubectl create secret generic db-pass --from-file=./password.txt',
    'ssh-keygen -t ed25519 -C "me@example.com"',
    '<input type="password" name="password" placeholder="Password">',
    '{"type":"password","label":"Password","required":true}',
    'token = token.strip()',
    'passwords = [p for p in passwords if len(p) > 8]',
    'The secret_key must be at least 50 characters long.',
    'const [token, setToken] = useState<string | null>(null);',
    // code shapes found while scanning SDK sources for false positives
    '      apiKey: entraTokenProvider ?? apiKey,',
    "const jobSecret = opts?.jobSecret || readEnv('JOB_SECRET') || null;",
    '    auth: OAuthAuthResponse | StaticBearerAuthResponse | EnvVarAuthResponse;',
    "    errorKey: 'customErrorKey',",
    'const implicitKey = !keyProps.found;',
    '  implicitKey: !explicitKey && (simpleKeys || !allNullValues),',
    'getPrivateKey:e.getPrivateKey||null,getSignature:e.getSignature||null',
    '    pass: Result[];',
    "   PWD: '/Users/someone/projects/app',",
    "const u = new URL('https://abc:xyz@example.com');",
    'password: string;',
    'token?: AccessToken | null;',
    'def login(self, username: str, password: str) -> Session:',
    'if not token: raise AuthError("missing token")',
    'secret = secrets.token_hex(32)',
    'api_key = api_key or os.environ.get("OPENAI_API_KEY")',
    'key = cache_key(request)',
  ];
  for (const c of code) neg('code', 'code', c);

  const urls = [
    'postgres://localhost:5432/app',
    'postgres://app_user@db.internal:5432/app',
    'postgres://user:password@localhost:5432/mydb',
    'postgres://user:${DB_PASSWORD}@db:5432/app',
    'postgresql://<user>:<password>@<host>:5432/<db>',
    'mongodb+srv://user:<password>@cluster0.mongodb.net/',
    'redis://:****@cache:6379/0',
    'f"postgres://{user}:{password}@{host}/{db}"',
    'https://example.com:8443/path?x=1',
    'https://user@example.com/path',
    'http://[::1]:8080/health',
    'git@github.com:org/repo.git',
    'https://hooks.slack.com/services/XXXXXXXXX/XXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX',
    'https://github.com/org/repo/blob/main/src/auth/token.ts',
    'mysql://root:pass@127.0.0.1/test',
    'amqp://guest:guest@localhost:5672/',
  ];
  for (const u of urls) neg('url-credentials', 'url', `Connect to ${u} for local development.`);

  const structured = [
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n-----END PUBLIC KEY-----',
    '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\nRTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD\n-----END CERTIFICATE-----',
    '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----',
    '-----BEGIN PRIVATE KEY-----\nYOUR_PRIVATE_KEY_HERE\n-----END PRIVATE KEY-----',
    '"private_key": "-----BEGIN PRIVATE KEY-----\\n<your key>\\n-----END PRIVATE KEY-----\\n"',
    'Look for a line starting with -----BEGIN OPENSSH PRIVATE KEY----- in ~/.ssh/id_ed25519.',
    'A JWT header looks like eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 when encoded.',
    'eyJhbGciOiJIUzI1NiJ9 is only a header',
    'The base64 of {"a":1} is eyJhIjoxfQ==.',
    'Authorization: Basic dXNlcg==',
    'Basic usage is shown below.',
    'Bearer authentication (RFC 6750) sends "Authorization: Bearer <access_token>".',
    'Authorization: Bearer YOUR_ACCESS_TOKEN',
    'Authorization: Bearer ${{ secrets.GITHUB_TOKEN }}',
    'Authorization: Bearer xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  ];
  for (const s of structured) neg('structured', 'structured', s);

  const entropyish = [
    'commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39',
    'sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '"integrity": "sha512-Wv9sW8x4j2J3jQz9Yq3WQ5Qw0gJf2pY8V5m3Qn9vXh7mQk8V9sW3Zq1pL4eU6rT0bN2cY7dF5gH8jK1lM3nB6v=="',
    'request id 7c9e6679-7425-40de-944b-e07fc1f90ae7 failed',
    'docker pull ghcr.io/org/app@sha256:9b2a1f5c3d4e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80',
    'color: #3fa2c9; background: #ffffff;',
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'The build ID is 20240501.1532.abcdef and the run is 8841.',
    'model: claude-sonnet-4-5-20250929',
    'gpt-4o-mini-2024-07-18 is cheaper than gpt-4o-2024-08-06',
    'npm install @anthropic-ai/sdk@0.30.1 openai@4.67.3',
    'See https://platform.openai.com/docs/api-reference/authentication for details.',
    'The request was sent to /v1/chat/completions with stream=true.',
    'task-1234-retry, desk-booking, risk-assessment-v2',
    'The variable ghp_token_name holds the name, not the token.',
    'Prefixes: ghp_ (classic), github_pat_ (fine-grained), glpat- (GitLab), xoxb- (Slack bot).',
    'Stripe keys start with sk_live_ or sk_test_; restricted ones with rk_live_.',
    'AIza keys are Google API keys.',
    'AKIA ids are long-term AWS access key ids, ASIA ids are temporary.',
    'hf_hub_download(repo_id="gpt2", filename="config.json")',
    'from sklearn.model_selection import train_test_split  # sk-learn',
    'sk-learn-tutorial-notes-for-beginners',
    'See PR #4211 and issue SK-1042 for the migration plan.',
    'key-value stores such as redis are fast',
    'dapi is the Databricks token prefix',
    'Tokens: 12,345 in / 678 out',
  ];
  for (const s of entropyish) neg('entropy', 'prose', s);

  // near misses of the keyword-anchored and URL-path rules
  const ruleNegatives: Record<string, string[]> = {
    'aws-secret-access-key': ['aws_secret_access_key = <secret-access-key>', 'AWS_SECRET_ACCESS_KEY=${AWS_SECRET}'],
    'aws-session-token': ['AWS_SESSION_TOKEN=', 'aws_session_token = (output of sts get-session-token)'],
    'azure-openai-api-key': ['api-key: <your-resource-key>', 'AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/'],
    'azure-ad-client-secret': ['AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000000', 'client_secret: <app-secret>'],
    'gcp-service-account-key-id': ['"private_key_id": "<key-id>"', '"client_id": "109876543210987654321"'],
    'heroku-api-key': ['HEROKU_API_KEY=$(heroku auth:token)', 'HEROKU_APP_NAME=my-app-staging'],
    'cloudflare-api-token': ['CLOUDFLARE_API_TOKEN=your-cloudflare-token', 'CLOUDFLARE_ZONE_ID=zone-id-from-dashboard'],
    'datadog-api-key': ['DD_API_KEY=<DATADOG_API_KEY>', 'DD_SITE=datadoghq.eu'],
    'twilio-auth-token': ['TWILIO_AUTH_TOKEN=your_auth_token', 'TWILIO_PHONE_NUMBER=+15005550006'],
    'mailchimp-api-key': ['MAILCHIMP_API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-us21', 'MAILCHIMP_SERVER_PREFIX=us21'],
    'telegram-bot-token': ['TELEGRAM_BOT_TOKEN=123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11EXAMPLE', 'TELEGRAM_CHAT_ID=-1001234567890'],
    'discord-bot-token': ['DISCORD_BOT_TOKEN=<bot token from the developer portal>', 'DISCORD_GUILD_ID=123456789012345678'],
    'okta-api-token': ['OKTA_API_TOKEN={yourApiToken}', 'OKTA_DOMAIN=dev-123456.okta.com'],
    'algolia-admin-key': ['ALGOLIA_APP_ID=ABCD1234EF', 'ALGOLIA_ADMIN_KEY=YourAdminAPIKey'],
    'generic-password': ['DB_PASSWORD=', 'password: "${DB_PASSWORD}"', 'PASSWORD_FILE=/run/secrets/pw'],
    'generic-secret': ['CLIENT_SECRET=<client-secret>', 'secret: my-secret'],
    'generic-token': ['ACCESS_TOKEN=<token>', 'token: abc'],
    'generic-api-key': ['API_KEY=your_api_key_here', 'apiKey: "REPLACE_ME"'],
    'azure-storage-account-key': ['DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=<account-key>;EndpointSuffix=core.windows.net'],
    'azure-service-bus-key': ['Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<key>'],
    'azure-sas-signature': ['https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&sig=<signature>', 'the query has a sig= parameter'],
    'slack-webhook-url': ['https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'],
    'discord-webhook-url': ['https://discord.com/api/webhooks/{webhook.id}/{webhook.token}'],
    'private-key-pem': ['-----BEGIN EC PRIVATE KEY-----\n<redacted>\n-----END EC PRIVATE KEY-----'],
    jwt: ['eyJhbGciOiJub25lIn0 (header only)'],
    'database-url-password': ['DATABASE_URL=postgres://postgres:<password>@localhost:5432/postgres'],
    'url-credentials': ['https://user:${TOKEN}@git.example.com/org/repo.git'],
    'bearer-token': ['Authorization: Bearer ${TOKEN}'],
    'basic-auth': ['Authorization: Basic $(echo -n user:pass | base64)'],
  };
  for (const [rule, lines] of Object.entries(ruleNegatives)) for (const l of lines) neg(rule, 'near-miss', l);

  // generated negatives: identifiers and config lines that mention keywords without secrets
  const nouns = ['user', 'session', 'cache', 'request', 'order', 'invoice', 'model', 'prompt', 'batch'];
  for (let i = 0; i < 40; i++) {
    const n = r.pick(nouns);
    neg('generated', 'config', r.pick([
      `${n}_token_limit: ${100 + r.int(9000)}`,
      `max_${n}_tokens = ${r.int(4096)}`,
      `${n}Key: "${n}-${r.int(999)}"`,
      `${n}_secret_ref: vault/${n}/${r.int(99)}`,
      `${n}_password_length = ${8 + r.int(20)}`,
      `"${n}_key_id": "${n}-${r.int(99)}"`,
      `${n.toUpperCase()}_TOKEN_FILE=/run/secrets/${n}_token`,
      `${n}_auth_enabled: ${r.pick(['true', 'false'])}`,
    ]));
  }

  // secrets identified by a marker inside them or at their end (appended last so that the seeded
  // values above stay as they were): bare, keyed, and base64 in a Kubernetes Secret
  for (let i = 0; i < 3; i++) {
    const mm = `${g.s(B62, 6)}_${g.s(B62, 29)}_mmk`;
    pos('maxmind-license-key', 'prose', `Your GeoIP license key is ${mm} — keep it out of git.`, [mm]);
    pos('maxmind-license-key', 'env', `GEOIPUPDATE_LICENSE_KEY=${mm}\nGEOIPUPDATE_EDITION_IDS=GeoLite2-City\n`, [mm]);
    const b = Buffer.from(mm).toString('base64');
    pos('maxmind-license-key', 'k8s-secret', `apiVersion: v1\nkind: Secret\ndata:\n  license: ${b}\n`, [b]);
    const az = `${g.s(B62, 3)}${r.int(10)}Q~${g.s(B62 + '_~.-', 34)}`;
    const ab = Buffer.from(az).toString('base64');
    pos('azure-ad-client-secret', 'k8s-secret', `apiVersion: v1\nkind: Secret\ndata:\n  value: ${ab}\n`, [ab]);
  }
  neg('maxmind-license-key', 'placeholder', 'GEOIPUPDATE_LICENSE_KEY=xxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxx_mmk');
  neg('maxmind-license-key', 'identifier', 'def update_geoip_database_from_maxmind_mmk(): pass');
  neg('maxmind-license-key', 'doc', 'MaxMind license keys end in _mmk (for example <key>_mmk).');
  neg('base64-encoded-secret', 'k8s-configmap', `data:\n  greeting: ${Buffer.from('hello from the build pipeline').toString('base64')}\n`);
  return { positives, negatives };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const dir = join(new URL('../../fixtures/mask/', import.meta.url).pathname);
  mkdirSync(dir, { recursive: true });
  const { positives, negatives } = generate();
  writeFileSync(join(dir, 'positives.jsonl'), positives.map((c) => JSON.stringify(c)).join('\n') + '\n');
  writeFileSync(join(dir, 'negatives.jsonl'), negatives.map((c) => JSON.stringify(c)).join('\n') + '\n');
  console.log(`${positives.length} positives, ${negatives.length} negatives → ${dir}`);
}
