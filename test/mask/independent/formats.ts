// Secret formats for the independent evaluation corpus. Every format is transcribed from a public
// rule set's regex or its true-positive examples (gitleaks config/gitleaks.toml and
// cmd/generate/config/rules/*.go, trufflehog pkg/detectors/*, Nosey Parker rules/*.yml, provider
// docs they cite), NOT from src/mask: the corpus must test the masker against what its authors did
// not write. `names` are the variable / key names the rule sets' examples assign these values to;
// `contextual` types have no distinctive prefix and are only recognisable by such a name.
import type { Rng } from '../corpus/rng.js';

export interface SecretFormat {
  type: string;
  /** Rule set the format and length were taken from. */
  source: string;
  /** Recognisable only by the name it is assigned to (no distinctive prefix). */
  contextual?: boolean;
  /** Names the value is assigned to (env var style; contexts derive other spellings). */
  names: string[];
  make(r: Rng): string;
  /** Identifying prefix that must not stay visible (checked beside the 6-character rule). */
  prefix?: string;
}

const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LO = 'abcdefghijklmnopqrstuvwxyz';
const DI = '0123456789';
const AN = UP + LO + DI;
const ANX = AN + '_-'; // gitleaks AlphaNumericExtendedShort
const B64 = AN + '+/';
const HEX = '0123456789abcdef';
const HEXU = '0123456789ABCDEF';
const LODI = LO + DI;
const UPDI = UP + DI;
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BECH = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';

type Mk = (r: Rng) => string;
const s = (a: string, n: number): Mk => (r) => r.str(a, n);
const cat = (...parts: (string | Mk)[]): Mk => (r) => parts.map((p) => (typeof p === 'string' ? p : p(r))).join('');
const range = (a: string, lo: number, hi: number): Mk => (r) => r.str(a, lo + r.int(hi - lo + 1));
const uuid = (hex = HEX): Mk => cat(s(hex, 8), '-', s(hex, 4), '-4', s(hex, 3), '-', (r) => r.pick(['8', '9', 'a', 'b']), s(hex, 3), '-', s(hex, 12));
const b64bytes = (n: number): Mk => (r) => Buffer.from(Array.from({ length: n }, () => r.int(256))).toString('base64');

function f(type: string, source: string, names: string[], make: Mk, extra: Partial<SecretFormat> = {}): SecretFormat {
  return { type, source, names, make, ...extra };
}
const ctx = (type: string, source: string, names: string[], make: Mk) => f(type, source, names, make, { contextual: true });
const pre = (type: string, source: string, names: string[], prefix: string, body: Mk) => f(type, source, names, cat(prefix, body), { prefix });

/** A random password as people write them: letters, digits and a few symbols, 10-24 chars. */
const password: Mk = (r) => {
  const sym = '!#%^*-_+=.?~';
  let p = '';
  const n = 10 + r.int(15);
  for (let i = 0; i < n; i++) p += r.next() < 0.12 ? r.pick([...sym]) : r.pick([...AN]);
  return p.replace(/^[-_.=+~]/, 'Q') + r.pick([...DI]);
};

export const FORMATS: SecretFormat[] = [
  // ---- AI providers ----
  f('openai-project-key', 'gitleaks openai-api-key', ['OPENAI_API_KEY'], cat('sk-proj-', s(ANX, 74), 'T3BlbkFJ', s(ANX, 74)), { prefix: 'sk-proj-' }),
  f('openai-legacy-key', 'gitleaks openai-api-key', ['OPENAI_API_KEY'], cat('sk-', s(AN, 20), 'T3BlbkFJ', s(AN, 20)), { prefix: 'sk-' }),
  f('openai-svcacct-key', 'gitleaks openai-api-key', ['OPENAI_API_KEY'], cat('sk-svcacct-', s(ANX, 58), 'T3BlbkFJ', s(ANX, 58)), { prefix: 'sk-svcacct-' }),
  f('openai-admin-key', 'gitleaks openai-api-key', ['OPENAI_ADMIN_KEY'], cat('sk-admin-', s(ANX, 58), 'T3BlbkFJ', s(ANX, 58)), { prefix: 'sk-admin-' }),
  pre('anthropic-api-key', 'gitleaks anthropic-api-key', ['ANTHROPIC_API_KEY'], 'sk-ant-api03-', cat(s(ANX, 93), 'AA')),
  pre('anthropic-admin-key', 'gitleaks anthropic-admin-api-key', ['ANTHROPIC_ADMIN_KEY'], 'sk-ant-admin01-', cat(s(ANX, 93), 'AA')),
  ctx('cohere-api-key', 'gitleaks cohere-api-token', ['CO_API_KEY', 'COHERE_API_KEY'], s(AN, 40)),
  ctx('mistral-api-key', 'trufflehog mistral', ['MISTRAL_API_KEY'], s(AN, 32)),
  ctx('together-api-key', 'trufflehog togetherai', ['TOGETHER_API_KEY'], s(HEX, 64)),
  pre('groq-api-key', 'trufflehog groq', ['GROQ_API_KEY'], 'gsk_', s(AN, 52)),
  pre('perplexity-api-key', 'gitleaks perplexity-api-key', ['PERPLEXITY_API_KEY'], 'pplx-', s(AN, 48)),
  pre('replicate-api-token', 'trufflehog replicate', ['REPLICATE_API_TOKEN'], 'r8_', s(AN, 37)),
  pre('xai-api-key', 'trufflehog xai', ['XAI_API_KEY'], 'xai-', s(AN, 80)),
  pre('openrouter-api-key', 'trufflehog openrouter', ['OPENROUTER_API_KEY'], 'sk-or-v1-', s(HEX, 64)),
  pre('huggingface-token', 'gitleaks huggingface-access-token', ['HF_TOKEN'], 'hf_', s(UP + LO, 34)),
  pre('huggingface-org-token', 'gitleaks huggingface-organization-api-token', ['HF_ORG_TOKEN'], 'api_org_', s(UP + LO, 34)),
  f('deepseek-api-key', 'trufflehog deepseek', ['DEEPSEEK_API_KEY'], cat('sk-', s(HEX, 32)), { contextual: true }),
  pre('langsmith-api-key', 'trufflehog langsmith', ['LANGSMITH_API_KEY', 'LANGCHAIN_API_KEY'], 'lsv2_pt_', cat(s(HEX, 32), '_', s(HEX, 10))),
  pre('pinecone-api-key', 'trufflehog pinecone', ['PINECONE_API_KEY'], 'pcsk_', cat(s(AN, 5), '_', s(AN, 63))),
  pre('elevenlabs-api-key', 'trufflehog elevenlabs', ['ELEVENLABS_API_KEY'], 'sk_', s(HEX, 48)),
  // ---- source hosting, CI, registries ----
  pre('github-pat', 'gitleaks github-pat', ['GITHUB_TOKEN', 'GH_TOKEN'], 'ghp_', s(AN, 36)),
  pre('github-oauth', 'gitleaks github-oauth', ['GITHUB_OAUTH_TOKEN'], 'gho_', s(AN, 36)),
  pre('github-app-token', 'gitleaks github-app-token', ['GITHUB_APP_TOKEN'], 'ghs_', s(AN, 36)),
  pre('github-user-token', 'gitleaks github-app-token', ['GITHUB_USER_TOKEN'], 'ghu_', s(AN, 36)),
  pre('github-refresh-token', 'gitleaks github-refresh-token', ['GITHUB_REFRESH_TOKEN'], 'ghr_', s(AN, 36)),
  pre('github-fine-grained-pat', 'gitleaks github-fine-grained-pat', ['GITHUB_PAT'], 'github_pat_', cat(s(AN, 22), '_', s(AN, 59))),
  pre('gitlab-pat', 'gitleaks gitlab-pat', ['GITLAB_TOKEN'], 'glpat-', s(ANX, 20)),
  pre('gitlab-pat-routable', 'gitleaks gitlab-pat-routable', ['GITLAB_TOKEN'], 'glpat-', cat(s(ANX, 27), '.01', s(LODI, 7))),
  pre('gitlab-pipeline-trigger', 'gitleaks gitlab-ptt', ['TRIGGER_TOKEN'], 'glptt-', s(HEX, 40)),
  pre('gitlab-runner-token', 'gitleaks gitlab-runner-authentication-token', ['RUNNER_TOKEN'], 'glrt-', s(ANX, 20)),
  pre('gitlab-deploy-token', 'gitleaks gitlab-deploy-token', ['DEPLOY_TOKEN'], 'gldt-', s(ANX, 20)),
  pre('gitlab-scim-token', 'gitleaks gitlab-scim-token', ['SCIM_TOKEN'], 'glsoat-', s(ANX, 20)),
  pre('bitbucket-app-password', 'trufflehog bitbucketapppassword', ['BITBUCKET_APP_PASSWORD'], 'ATBB', s(AN, 32)),
  pre('npm-token', 'gitleaks npm-access-token', ['NPM_TOKEN'], 'npm_', s(AN, 36)),
  pre('pypi-token', 'gitleaks pypi-upload-token', ['PYPI_TOKEN', 'TWINE_PASSWORD'], 'pypi-AgEIcHlwaS5vcmc', s(ANX, 70)),
  pre('rubygems-key', 'gitleaks rubygems-api-token', ['GEM_HOST_API_KEY'], 'rubygems_', s(HEX, 48)),
  pre('nuget-api-key', 'noseyparker nuget', ['NUGET_API_KEY'], 'oy2', s(LODI, 43)),
  pre('dockerhub-pat', 'trufflehog dockerhub', ['DOCKERHUB_TOKEN'], 'dckr_pat_', s(ANX, 27)),
  pre('clojars-token', 'gitleaks clojars-api-token', ['CLOJARS_TOKEN'], 'CLOJARS_', s(LODI, 60)),
  pre('artifactory-api-key', 'gitleaks artifactory-api-key', ['ARTIFACTORY_API_KEY'], 'AKCp', s(AN, 69)),
  pre('octopus-deploy-key', 'gitleaks octopus-deploy-api-key', ['OCTOPUS_API_KEY'], 'API-', s(UPDI, 26)),
  pre('sourcegraph-token', 'gitleaks sourcegraph-access-token', ['SRC_ACCESS_TOKEN'], 'sgp_', cat(s(HEX, 16), '_', s(HEX, 40))),
  pre('sonarqube-token', 'gitleaks sonar-api-token', ['SONAR_TOKEN'], 'squ_', s(HEX, 40)),
  // ---- cloud ----
  pre('aws-access-key-id', 'gitleaks aws-access-token', ['AWS_ACCESS_KEY_ID'], 'AKIA', s(B32, 16)),
  pre('aws-temp-access-key-id', 'gitleaks aws-access-token', ['AWS_ACCESS_KEY_ID'], 'ASIA', s(B32, 16)),
  ctx('aws-secret-access-key', 'trufflehog aws / detect-secrets AWSKeyDetector', ['AWS_SECRET_ACCESS_KEY', 'aws_secret_access_key'], s(B64, 40)),
  ctx('aws-session-token', 'trufflehog aws session', ['AWS_SESSION_TOKEN'], cat('IQoJb3JpZ2luX2VjE', s(B64, 300))),
  pre('aws-bedrock-key', 'gitleaks aws-amazon-bedrock-api-key-long-lived', ['AWS_BEARER_TOKEN_BEDROCK'], 'ABSKQmVkcm9ja0FQSUtleS1', cat(s(AN, 108), '=')),
  ctx('azure-storage-key', 'noseyparker azure storage / gitleaks', ['AZURE_STORAGE_KEY', 'AccountKey'], b64bytes(64)),
  f('azure-ad-client-secret', 'gitleaks azure-ad-client-secret', ['AZURE_CLIENT_SECRET', 'client_secret'], cat(s(AN, 3), s(DI, 1), 'Q~', s(ANX + '~.', 34))),
  ctx('azure-openai-key', 'trufflehog azure_openai', ['AZURE_OPENAI_API_KEY'], s(HEX, 32)),
  pre('gcp-api-key', 'gitleaks gcp-api-key', ['GOOGLE_API_KEY', 'GEMINI_API_KEY'], 'AIza', s(ANX, 35)),
  pre('gcp-oauth-client-secret', 'trufflehog gcpapplicationdefaultcredentials', ['GOOGLE_CLIENT_SECRET'], 'GOCSPX-', s(ANX, 28)),
  pre('google-access-token', 'noseyparker google oauth access token', ['GOOGLE_ACCESS_TOKEN'], 'ya29.', s(ANX, 120)),
  pre('digitalocean-pat', 'gitleaks digitalocean-pat', ['DIGITALOCEAN_TOKEN'], 'dop_v1_', s(HEX, 64)),
  pre('digitalocean-oauth', 'gitleaks digitalocean-access-token', ['DO_OAUTH_TOKEN'], 'doo_v1_', s(HEX, 64)),
  pre('databricks-token', 'gitleaks databricks-api-token', ['DATABRICKS_TOKEN'], 'dapi', s(HEX, 32)),
  ctx('heroku-api-key', 'gitleaks heroku-api-key', ['HEROKU_API_KEY'], uuid()),
  pre('heroku-api-key-v2', 'gitleaks heroku-api-key-v2', ['HEROKU_API_KEY'], 'HRKU-AA', s(ANX, 58)),
  pre('vault-service-token', 'gitleaks vault-service-token', ['VAULT_TOKEN'], 'hvs.', s(ANX, 95)),
  pre('vault-batch-token', 'gitleaks vault-batch-token', ['VAULT_TOKEN'], 'hvb.', s(ANX, 140)),
  f('terraform-cloud-token', 'gitleaks hashicorp-tf-api-token', ['TFE_TOKEN', 'TF_TOKEN_app_terraform_io'], cat(s(LODI, 14), '.atlasv1.', s(ANX, 67))),
  pre('pulumi-token', 'gitleaks pulumi-api-token', ['PULUMI_ACCESS_TOKEN'], 'pul-', s(HEX, 40)),
  pre('doppler-token', 'gitleaks doppler-api-token', ['DOPPLER_TOKEN'], 'dp.pt.', s(AN, 43)),
  pre('planetscale-token', 'gitleaks planetscale-api-token', ['PLANETSCALE_TOKEN'], 'pscale_tkn_', s(ANX, 43)),
  pre('planetscale-password', 'gitleaks planetscale-password', ['DATABASE_PASSWORD'], 'pscale_pw_', s(ANX, 43)),
  pre('alibaba-access-key-id', 'gitleaks alibaba-access-key-id', ['ALIBABA_CLOUD_ACCESS_KEY_ID'], 'LTAI', s(AN, 20)),
  ctx('alibaba-secret-key', 'gitleaks alibaba-secret-key', ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'], s(AN, 30)),
  ctx('cloudflare-api-token', 'gitleaks cloudflare-api-key', ['CLOUDFLARE_API_TOKEN', 'CF_API_TOKEN'], s(ANX, 40)),
  ctx('cloudflare-global-key', 'gitleaks cloudflare-global-api-key', ['CLOUDFLARE_API_KEY'], s(HEX, 37)),
  pre('cloudflare-origin-ca-key', 'gitleaks cloudflare-origin-ca-key', ['CF_ORIGIN_CA_KEY'], 'v1.0-', cat(s(HEX, 24), '-', s(HEX, 146))),
  pre('flyio-token', 'gitleaks flyio-access-token', ['FLY_API_TOKEN'], 'fo1_', s(ANX, 43)),
  ctx('vercel-token', 'trufflehog vercel', ['VERCEL_TOKEN'], s(AN, 24)),
  ctx('netlify-token', 'gitleaks netlify-access-token', ['NETLIFY_AUTH_TOKEN'], s(ANX, 43)),
  pre('supabase-token', 'trufflehog supabasetoken', ['SUPABASE_ACCESS_TOKEN'], 'sbp_', s(HEX, 40)),
  pre('openshift-token', 'gitleaks openshift-user-token', ['OPENSHIFT_TOKEN'], 'sha256~', s(ANX, 43)),
  pre('scalingo-token', 'gitleaks scalingo-api-token', ['SCALINGO_API_TOKEN'], 'tk-us-', s(ANX, 48)),
  pre('yandex-api-key', 'gitleaks yandex-api-key', ['YANDEX_API_KEY'], 'AQVN', s(ANX, 36)),
  // ---- observability ----
  ctx('datadog-api-key', 'trufflehog datadogtoken', ['DD_API_KEY', 'DATADOG_API_KEY'], s(HEX, 32)),
  ctx('datadog-app-key', 'gitleaks datadog-access-token', ['DD_APP_KEY', 'DATADOG_APP_KEY'], s(HEX, 40)),
  pre('newrelic-user-key', 'gitleaks new-relic-user-api-key', ['NEW_RELIC_API_KEY'], 'NRAK-', s(UPDI, 27)),
  pre('newrelic-insert-key', 'gitleaks new-relic-insert-key', ['NEW_RELIC_INSERT_KEY'], 'NRII-', s(ANX, 32)),
  pre('sentry-user-token', 'gitleaks sentry-user-token', ['SENTRY_AUTH_TOKEN'], 'sntryu_', s(HEX, 64)),
  pre('grafana-cloud-token', 'gitleaks grafana-cloud-api-token', ['GRAFANA_CLOUD_TOKEN'], 'glc_', s(AN, 80)),
  pre('grafana-sa-token', 'gitleaks grafana-service-account-token', ['GRAFANA_TOKEN'], 'glsa_', cat(s(AN, 32), '_', s(HEX, 8))),
  pre('dynatrace-token', 'gitleaks dynatrace-api-token', ['DT_API_TOKEN'], 'dt0c01.', cat(s(UPDI, 24), '.', s(UPDI, 64))),
  ctx('sumologic-access-key', 'gitleaks sumologic-access-token', ['SUMO_ACCESS_KEY'], s(AN, 64)),
  ctx('honeycomb-api-key', 'trufflehog honeycomb', ['HONEYCOMB_API_KEY'], s(AN, 32)),
  // ---- SaaS ----
  f('slack-bot-token', 'gitleaks slack-bot-token', ['SLACK_BOT_TOKEN'], cat('xoxb-', s(DI, 12), '-', s(DI, 13), '-', s(AN, 24)), { prefix: 'xoxb-' }),
  f('slack-user-token', 'gitleaks slack-user-token', ['SLACK_USER_TOKEN'], cat('xoxp-', s(DI, 12), '-', s(DI, 12), '-', s(DI, 13), '-', s(HEX, 32)), { prefix: 'xoxp-' }),
  f('slack-app-token', 'gitleaks slack-app-token', ['SLACK_APP_TOKEN'], cat('xapp-1-', s(UPDI, 11), '-', s(DI, 13), '-', s(HEX, 64)), { prefix: 'xapp-' }),
  f('slack-webhook', 'gitleaks slack-webhook-url', ['SLACK_WEBHOOK_URL'], cat('https://hooks.slack.com/services/T', s(UPDI, 8), '/B', s(UPDI, 10), '/', s(AN, 24))),
  f('discord-webhook', 'noseyparker discord webhook', ['DISCORD_WEBHOOK_URL'], cat('https://discord.com/api/webhooks/', s(DI, 19), '/', s(ANX, 68))),
  f('discord-bot-token', 'trufflehog discordbottoken (keyword-anchored there)', ['DISCORD_BOT_TOKEN', 'DISCORD_TOKEN'], cat((r) => r.pick(['M', 'N', 'O']), s(AN, 23), '.', s(ANX, 6), '.', s(ANX, 38)), { contextual: true }),
  f('telegram-bot-token', 'gitleaks telegram-bot-api-token (keyword-anchored there)', ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_TOKEN'], cat(range(DI, 8, 10), ':AA', s(ANX, 33)), { contextual: true }),
  pre('stripe-secret-key', 'gitleaks stripe-access-token', ['STRIPE_SECRET_KEY'], 'sk_live_', s(AN, 99)),
  pre('stripe-test-key', 'gitleaks stripe-access-token', ['STRIPE_SECRET_KEY'], 'sk_test_', s(AN, 24)),
  pre('stripe-restricted-key', 'gitleaks stripe-access-token', ['STRIPE_RESTRICTED_KEY'], 'rk_live_', s(AN, 24)),
  pre('stripe-webhook-secret', 'trufflehog stripe webhook', ['STRIPE_WEBHOOK_SECRET'], 'whsec_', s(AN, 32)),
  pre('square-access-token', 'gitleaks square-access-token', ['SQUARE_ACCESS_TOKEN'], 'EAAA', s(ANX, 60)),
  pre('shopify-access-token', 'gitleaks shopify-access-token', ['SHOPIFY_ACCESS_TOKEN'], 'shpat_', s(HEX, 32)),
  pre('shopify-shared-secret', 'gitleaks shopify-shared-secret', ['SHOPIFY_API_SECRET'], 'shpss_', s(HEX, 32)),
  f('sendgrid-api-key', 'gitleaks sendgrid-api-token', ['SENDGRID_API_KEY'], cat('SG.', s(ANX, 22), '.', s(ANX, 43)), { prefix: 'SG.' }),
  f('brevo-api-key', 'gitleaks sendinblue-api-token', ['BREVO_API_KEY'], cat('xkeysib-', s(HEX, 64), '-', s(AN, 16)), { prefix: 'xkeysib-' }),
  pre('twilio-api-key', 'gitleaks twilio-api-key', ['TWILIO_API_KEY'], 'SK', s(HEX, 32)),
  ctx('twilio-auth-token', 'trufflehog twilio', ['TWILIO_AUTH_TOKEN'], s(HEX, 32)),
  f('mailgun-key', 'gitleaks mailgun-private-api-token', ['MAILGUN_API_KEY'], cat('key-', s(HEX, 32))),
  f('mailchimp-key', 'gitleaks mailchimp-api-key (keyword-anchored there too)', ['MAILCHIMP_API_KEY'], cat(s(HEX, 32), '-us', range(DI, 2, 2)), { contextual: true }),
  pre('linear-api-key', 'gitleaks linear-api-key', ['LINEAR_API_KEY'], 'lin_api_', s(AN, 40)),
  pre('notion-token', 'gitleaks notion-api-token', ['NOTION_TOKEN'], 'ntn_', cat(s(DI, 11), s(AN, 35))),
  pre('atlassian-api-token', 'trufflehog atlassian', ['JIRA_API_TOKEN', 'ATLASSIAN_API_TOKEN'], 'ATATT3', cat(s(ANX, 180), '=', s(HEXU, 8))),
  f('postman-api-key', 'gitleaks postman-api-token', ['POSTMAN_API_KEY'], cat('PMAK-', s(HEX, 24), '-', s(HEX, 34)), { prefix: 'PMAK-' }),
  pre('figma-token', 'trufflehog figmapersonalaccesstoken', ['FIGMA_TOKEN'], 'figd_', s(ANX, 40)),
  pre('shippo-token', 'gitleaks shippo-api-token', ['SHIPPO_API_TOKEN'], 'shippo_live_', s(HEX, 40)),
  pre('readme-api-key', 'gitleaks readme-api-token', ['README_API_KEY'], 'rdme_', s(LODI, 70)),
  pre('prefect-api-key', 'gitleaks prefect-api-token', ['PREFECT_API_KEY'], 'pnu_', s(AN, 36)),
  pre('typeform-token', 'gitleaks typeform-api-token', ['TYPEFORM_TOKEN'], 'tfp_', s(ANX, 59)),
  pre('infracost-token', 'gitleaks infracost-api-token', ['INFRACOST_API_KEY'], 'ico-', s(AN, 32)),
  pre('mapbox-secret-token', 'noseyparker mapbox', ['MAPBOX_SECRET_TOKEN'], 'sk.eyJ1Ijoi', cat(s(LODI, 12), 'IiwiYSI6I', s(AN, 16), '.', s(ANX, 22))),
  pre('age-secret-key', 'gitleaks age-secret-key', ['SOPS_AGE_KEY'], 'AGE-SECRET-KEY-1', s(BECH, 58)),
  f('onepassword-secret-key', 'gitleaks 1password-secret-key', ['OP_SECRET_KEY'], cat('A3-', s(UPDI, 6), '-', s(UPDI, 11), '-', s(UPDI, 5), '-', s(UPDI, 5), '-', s(UPDI, 5))),
  pre('onepassword-sa-token', 'gitleaks 1password-service-account-token', ['OP_SERVICE_ACCOUNT_TOKEN'], 'ops_eyJ', s(B64, 260)),
  pre('adobe-client-secret', 'gitleaks adobe-client-secret', ['ADOBE_CLIENT_SECRET'], 'p8e-', s(AN, 32)),
  f('airtable-pat', 'gitleaks airtable-personnal-access-token', ['AIRTABLE_TOKEN'], cat('pat', s(AN, 14), '.', s(HEX, 64)), { prefix: 'pat' }),
  pre('clickhouse-secret', 'gitleaks clickhouse-cloud-api-secret-key', ['CLICKHOUSE_SECRET'], '4b1d', s(AN, 38)),
  pre('easypost-token', 'gitleaks easypost-api-token', ['EASYPOST_API_KEY'], 'EZAK', s(AN, 54)),
  f('flutterwave-secret', 'gitleaks flutterwave-secret-key', ['FLW_SECRET_KEY'], cat('FLWSECK_TEST-', s('abcdefgh' + DI, 32), '-X'), { prefix: 'FLWSECK_TEST-' }),
  pre('frameio-token', 'gitleaks frameio-api-token', ['FRAMEIO_TOKEN'], 'fio-u-', s(ANX, 64)),
  f('maxmind-license-key', 'gitleaks maxmind-license-key', ['MAXMIND_LICENSE_KEY'], cat(s(AN, 6), '_', s(AN, 29), '_mmk')),
  pre('settlemint-pat', 'gitleaks settlemint-personal-access-token', ['SETTLEMINT_TOKEN'], 'sm_pat_', s(AN, 16)),
  f('okta-api-token', 'gitleaks okta-access-token', ['OKTA_API_TOKEN'], cat('00', s(ANX, 40)), { contextual: true }),
  ctx('algolia-admin-key', 'gitleaks algolia-api-key', ['ALGOLIA_ADMIN_KEY', 'ALGOLIA_API_KEY'], s(HEX, 32)),
  ctx('hubspot-api-key', 'gitleaks hubspot-api-key', ['HUBSPOT_API_KEY'], uuid(HEXU)),
  ctx('intercom-token', 'gitleaks intercom-api-key', ['INTERCOM_ACCESS_TOKEN'], s(ANX, 60)),
  ctx('zendesk-token', 'gitleaks zendesk-secret-key', ['ZENDESK_API_TOKEN'], s(AN, 40)),
  ctx('contentful-token', 'gitleaks contentful-delivery-api-token', ['CONTENTFUL_ACCESS_TOKEN'], s(ANX, 43)),
  ctx('asana-secret', 'gitleaks asana-client-secret', ['ASANA_CLIENT_SECRET'], s(LODI, 32)),
  ctx('twitter-api-secret', 'gitleaks twitter-api-secret', ['TWITTER_API_SECRET'], s(AN, 50)),
  f('twitter-bearer-token', 'gitleaks twitter-bearer-token', ['TWITTER_BEARER_TOKEN'], cat('AAAAAAAAAAAAAAAAAAAAA', s(AN, 30), '%3D', s(AN, 50)), { contextual: true }),
  ctx('facebook-app-secret', 'gitleaks facebook-secret', ['FACEBOOK_APP_SECRET'], s(HEX, 32)),
  ctx('plaid-secret', 'gitleaks plaid-secret-key', ['PLAID_SECRET'], s(LODI, 30)),
  ctx('sendbird-token', 'gitleaks sendbird-access-token', ['SENDBIRD_API_TOKEN'], s(HEX, 40)),
  // ---- generic, from the keyword + entropy plugins (detect-secrets KeywordDetector, gitleaks generic-api-key) ----
  ctx('generic-password', 'detect-secrets KeywordDetector', ['DB_PASSWORD', 'POSTGRES_PASSWORD', 'MYSQL_ROOT_PASSWORD', 'ADMIN_PASS', 'SMTP_PASSWORD', 'REDIS_PASSWORD'], password),
  ctx('generic-app-secret', 'gitleaks generic-api-key', ['SECRET_KEY', 'DJANGO_SECRET_KEY', 'SECRET_KEY_BASE', 'JWT_SECRET', 'SESSION_SECRET', 'NEXTAUTH_SECRET', 'APP_KEY'], (r) => r.pick([s(B64, 44), s(HEX, 64), s(AN + '!@#%^&*(-_=+)', 50)])(r)),
  ctx('generic-api-key', 'gitleaks generic-api-key', ['API_KEY', 'SERVICE_API_KEY', 'PAYMENTS_API_KEY', 'INTERNAL_API_TOKEN', 'WEBHOOK_SECRET', 'CLIENT_SECRET'], (r) => r.pick([s(AN, 32), s(HEX, 40), s(ANX, 48)])(r)),
  ctx('registry-password', 'gitleaks curl-auth-user / docker login', ['REGISTRY_PASSWORD', 'DOCKER_PASSWORD', 'CI_REGISTRY_PASSWORD'], password),
  ctx('basic-auth-url', 'noseyparker credentials in URL', ['DATABASE_URL'], password),
  f('jwt', 'noseyparker json web token', ['ACCESS_TOKEN', 'ID_TOKEN'], (r) => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const h = enc({ alg: r.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' });
    const p = enc({ sub: r.str(DI, 10), name: r.pick(['Ada Lovelace', 'Grace Hopper', 'Linus']), iat: 1700000000 + r.int(9e7), exp: 1800000000 + r.int(9e7), scope: 'read write' });
    return `${h}.${p}.${r.str(ANX, 43)}`;
  }, { prefix: 'eyJ' }),
  f('private-key-rsa', 'gitleaks private-key', ['PRIVATE_KEY'], (r) => pem('RSA PRIVATE KEY', r, 1190)),
  f('private-key-pkcs8', 'gitleaks private-key', ['PRIVATE_KEY'], (r) => pem('PRIVATE KEY', r, 1210)),
  f('private-key-ec', 'gitleaks private-key', ['EC_PRIVATE_KEY'], (r) => pem('EC PRIVATE KEY', r, 121)),
  f('private-key-openssh', 'gitleaks private-key', ['SSH_PRIVATE_KEY'], (r) => pem('OPENSSH PRIVATE KEY', r, 400)),
  f('gcp-service-account', 'gitleaks gcp-service-account / noseyparker', ['GOOGLE_CREDENTIALS'], (r) => serviceAccount(r)),
];

export function pem(label: string, r: Rng, bytes: number): string {
  const body = Buffer.from(Array.from({ length: bytes }, () => r.int(256))).toString('base64');
  const lines = body.match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----`;
}

/** A service-account key file as `gcloud iam service-accounts keys create` writes it. */
export function serviceAccount(r: Rng): string {
  const project = `${r.pick(['acme', 'orbit', 'lumen', 'tessel'])}-${r.str(LODI, 6)}`;
  return JSON.stringify(
    {
      type: 'service_account',
      project_id: project,
      private_key_id: r.str(HEX, 40),
      private_key: pem('PRIVATE KEY', r, 1210) + '\n',
      client_email: `deployer@${project}.iam.gserviceaccount.com`,
      client_id: r.str(DI, 21),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
    },
    null,
    2,
  );
}
