// The prefix-token part of the catalog. Order matters where prefixes overlap: the first rule
// whose verdict is not 'no' wins (sk-ant- before sk-).
import { classCount, distinct, looksFiller, looksLikeName, randomBody } from '../chars.js';
import { tokenRule, type TokenSpec } from './token.js';

const B64URL = 'A-Za-z0-9_-';
const ALNUM = 'A-Za-z0-9';
const HEX = 'a-f0-9';
const B64 = 'A-Za-z0-9+/=';

/** Any random-looking body, even of one character class (digits + dashes, base32 upper-case). */
const anyRandom = (b: string) => randomBody(b, 1);
/** Random and not a dashed or camel-cased name ("sk-learn-2024-notes"). */
const notName = (b: string) => randomBody(b) && !looksLikeName(b);
const hex = (b: string) => !looksFiller(b) && classCount(b) >= 2;

function t(name: string, description: string, prefixes: string[], body: string, min: number, extra: Partial<TokenSpec> = {}): TokenSpec {
  return { name, description, prefixes, body, min, ...extra };
}

const afterQuery = (text: string, c: number) => c > 0 && '?&;'.includes(text[c - 1]!);
const afterHost = (text: string, c: number) => c === 0 || !/[A-Za-z0-9-]/.test(text[c - 1]!);

export const TOKEN_SPECS: TokenSpec[] = [
  // AI providers
  t('anthropic-admin-key', 'Anthropic Admin API key (sk-ant-admin01-…)', ['sk-ant-admin01-'], B64URL, 32, { commit: 24 }),
  t('anthropic-api-key', 'Anthropic API key (sk-ant-api03-…)', ['sk-ant-api03-', 'sk-ant-'], B64URL, 32, { commit: 24, check: notName }),
  t('openrouter-api-key', 'OpenRouter API key (sk-or-v1-…)', ['sk-or-v1-'], HEX, 64, { commit: 24, check: hex }),
  t('langfuse-secret-key', 'Langfuse secret key (sk-lf-<uuid>)', ['sk-lf-'], 'a-f0-9-', 36, { max: 36, check: hex }),
  t('openai-api-key', 'OpenAI API key: project, service-account, admin and legacy (sk-proj-…, sk-…)', ['sk-proj-', 'sk-svcacct-', 'sk-admin-', 'sk-None-', 'sk-'], B64URL, 20, { commit: 20, check: notName }),
  t('groq-api-key', 'Groq API key (gsk_…)', ['gsk_'], ALNUM, 52, { commit: 20 }),
  t('xai-api-key', 'xAI API key (xai-…)', ['xai-'], ALNUM, 80, { commit: 24 }),
  t('perplexity-api-key', 'Perplexity API key (pplx-…)', ['pplx-'], ALNUM, 48, { commit: 20 }),
  t('replicate-api-token', 'Replicate API token (r8_…)', ['r8_'], ALNUM, 37, { commit: 24 }),
  t('fireworks-api-key', 'Fireworks AI API key (fw_…)', ['fw_'], ALNUM, 24, { commit: 24 }),
  t('huggingface-token', 'Hugging Face user access token (hf_…)', ['hf_'], 'A-Za-z', 34, { max: 34, check: notName }),
  t('huggingface-org-token', 'Hugging Face organisation API token (api_org_…)', ['api_org_'], 'A-Za-z', 34, { max: 34, check: notName }),
  t('langsmith-api-key', 'LangSmith API key (lsv2_pt_…, lsv2_sk_…)', ['lsv2_pt_', 'lsv2_sk_'], 'a-f0-9_', 43, { commit: 20, check: hex }),
  t('pinecone-api-key', 'Pinecone API key (pcsk_…)', ['pcsk_'], 'A-Za-z0-9_', 60, { commit: 24 }),
  t('tavily-api-key', 'Tavily API key (tvly-…)', ['tvly-'], 'A-Za-z0-9-', 32, { commit: 24, check: notName }),
  t('firecrawl-api-key', 'Firecrawl API key (fc-<32 hex>)', ['fc-'], HEX, 32, { max: 32, check: hex }),
  t('e2b-api-key', 'E2B API key (e2b_…)', ['e2b_'], HEX, 40, { commit: 24, check: hex }),
  t('browserbase-api-key', 'Browserbase API key (bb_live_…)', ['bb_live_'], B64URL, 27, { commit: 20 }),
  t('anyscale-api-key', 'Anyscale API key (esecret_…)', ['esecret_'], ALNUM, 20, { commit: 20 }),
  t('elevenlabs-api-key', 'ElevenLabs API key (sk_<48 hex>)', ['sk_'], HEX, 48, { max: 48, check: hex }),
  // Source hosting and CI
  t('github-pat', 'GitHub personal access token, classic (ghp_…)', ['ghp_'], ALNUM, 36, { commit: 20 }),
  t('github-oauth-token', 'GitHub OAuth access token (gho_…)', ['gho_'], ALNUM, 36, { commit: 20 }),
  t('github-user-to-server-token', 'GitHub App user-to-server token (ghu_…)', ['ghu_'], ALNUM, 36, { commit: 20 }),
  t('github-app-token', 'GitHub App installation / Actions token (ghs_…)', ['ghs_'], ALNUM, 36, { commit: 20 }),
  t('github-refresh-token', 'GitHub App refresh token (ghr_…)', ['ghr_'], ALNUM, 36, { commit: 20 }),
  t('github-fine-grained-pat', 'GitHub fine-grained personal access token (github_pat_…)', ['github_pat_'], 'A-Za-z0-9_', 40, { commit: 20 }),
  t('gitlab-pat', 'GitLab personal, project or group access token (glpat-…)', ['glpat-'], 'A-Za-z0-9_.-', 20, { commit: 20 }),
  t('gitlab-pipeline-trigger-token', 'GitLab pipeline trigger token (glptt-…)', ['glptt-'], HEX, 40, { commit: 20, check: hex }),
  t('gitlab-runner-token', 'GitLab runner authentication token (glrt-…, GR1348941…)', ['glrt-', 'GR1348941'], 'A-Za-z0-9_.-', 20, { commit: 20 }),
  t('gitlab-deploy-token', 'GitLab deploy token (gldt-…)', ['gldt-'], B64URL, 20, { commit: 20 }),
  t('gitlab-feed-token', 'GitLab feed token (glft-…)', ['glft-'], B64URL, 20, { commit: 20 }),
  t('gitlab-oauth-secret', 'GitLab OAuth application secret (gloas-…)', ['gloas-'], B64URL, 64, { commit: 24 }),
  t('gitlab-ci-job-token', 'GitLab CI/CD job token (glcbt-…)', ['glcbt-'], 'A-Za-z0-9_.-', 20, { commit: 20 }),
  t('gitlab-agent-token', 'GitLab agent for Kubernetes token (glagent-…)', ['glagent-'], B64URL, 50, { commit: 24 }),
  t('bitbucket-app-password', 'Bitbucket app password / API token (ATBB…, ATCTT…)', ['ATBB', 'ATCTT3'], 'A-Za-z0-9_=-', 32, { commit: 24 }),
  t('circleci-token', 'CircleCI personal API token (CCIPAT_…)', ['CCIPAT_'], 'A-Za-z0-9_', 40, { commit: 20 }),
  t('buildkite-token', 'Buildkite API access token (bkua_…)', ['bkua_'], HEX, 40, { commit: 24, check: hex }),
  t('sonarqube-token', 'SonarQube / SonarCloud token (squ_, sqp_, sqa_)', ['squ_', 'sqp_', 'sqa_'], HEX, 40, { commit: 24, check: hex }),
  // Cloud
  t('aws-access-key-id', 'AWS access key ID (AKIA…, ASIA…); masked even with an EXAMPLE suffix', ['AKIA', 'ASIA', 'ABIA', 'ACCA'], 'A-Z0-9', 16, { max: 16, check: anyRandom, truncated: true }),
  t('gcp-api-key', 'Google Cloud / Gemini API key (AIza…)', ['AIza'], B64URL, 35, { commit: 20 }),
  t('gcp-oauth-client-secret', 'Google OAuth client secret (GOCSPX-…)', ['GOCSPX-'], B64URL, 28, { commit: 20 }),
  t('google-oauth-access-token', 'Google OAuth 2.0 access token (ya29.…)', ['ya29.'], B64URL, 30, { commit: 20 }),
  t('google-oauth-refresh-token', 'Google OAuth 2.0 refresh token (1//…)', ['1//'], B64URL, 30, { commit: 24 }),
  t('azure-storage-account-key', 'Azure Storage account key in a connection string (AccountKey=…)', ['AccountKey='], B64, 86, { commit: 40, keepPrefix: true, boundary: 'none' }),
  t('azure-service-bus-key', 'Azure Service Bus / Event Hubs shared access key (SharedAccessKey=…)', ['SharedAccessKey='], B64, 43, { commit: 30, keepPrefix: true, boundary: 'none' }),
  t('azure-sas-signature', 'Azure shared access signature (…&sig=…)', ['sig='], 'A-Za-z0-9%+/=', 30, { commit: 30, keepPrefix: true, boundary: afterQuery }),
  t('digitalocean-token', 'DigitalOcean token (dop_v1_, doo_v1_, dor_v1_)', ['dop_v1_', 'doo_v1_', 'dor_v1_'], HEX, 64, { commit: 20, check: hex }),
  t('databricks-token', 'Databricks personal access token (dapi…)', ['dapi'], HEX, 32, { max: 32, check: hex }),
  t('heroku-api-key-v2', 'Heroku API key, new format (HRKU-…)', ['HRKU-'], B64URL, 60, { commit: 24 }),
  t('hashicorp-vault-token', 'HashiCorp Vault token (hvs., hvb., hvr.)', ['hvs.', 'hvb.', 'hvr.'], B64URL, 24, { commit: 24 }),
  t('pulumi-access-token', 'Pulumi access token (pul-…)', ['pul-'], HEX, 40, { max: 40, check: hex }),
  t('doppler-token', 'Doppler token (dp.pt., dp.st., dp.ct., dp.sa., dp.scim., dp.audit.)', ['dp.pt.', 'dp.st.', 'dp.ct.', 'dp.sa.', 'dp.scim.', 'dp.audit.'], ALNUM, 40, { commit: 20 }),
  t('planetscale-token', 'PlanetScale token or password (pscale_tkn_, pscale_pw_, pscale_oauth_)', ['pscale_tkn_', 'pscale_pw_', 'pscale_oauth_'], 'A-Za-z0-9_.-', 32, { commit: 20 }),
  t('supabase-access-token', 'Supabase access token (sbp_…)', ['sbp_'], HEX, 40, { commit: 24, check: hex }),
  t('supabase-secret-key', 'Supabase secret API key (sb_secret_…)', ['sb_secret_'], B64URL, 24, { commit: 20 }),
  t('netlify-token', 'Netlify personal access token (nfp_…)', ['nfp_'], ALNUM, 36, { commit: 24 }),
  t('render-api-key', 'Render API key (rnd_…)', ['rnd_'], ALNUM, 32, { commit: 24 }),
  t('flyio-token', 'Fly.io access token (fo1_…, fm2_…)', ['fo1_', 'fm2_'], B64URL, 43, { commit: 24 }),
  t('dynatrace-api-token', 'Dynatrace API token (dt0c01.…)', ['dt0c01.'], 'A-Z0-9.', 90, { commit: 24, check: anyRandom }),
  t('newrelic-api-key', 'New Relic user or insert key (NRAK-…, NRII-…)', ['NRAK-', 'NRII-'], 'A-Z0-9_-', 27, { commit: 20, check: anyRandom }),
  t('sentry-auth-token', 'Sentry auth token (sntrys_…, sntryu_…)', ['sntrys_', 'sntryu_'], 'A-Za-z0-9+/=_', 40, { commit: 20 }),
  t('grafana-cloud-token', 'Grafana Cloud access policy token (glc_…)', ['glc_'], B64, 32, { commit: 20 }),
  t('grafana-service-account-token', 'Grafana service account token (glsa_…)', ['glsa_'], 'A-Za-z0-9_', 41, { commit: 20 }),
  t('jfrog-api-key', 'JFrog Artifactory API key (AKCp…)', ['AKCp'], ALNUM, 69, { commit: 24 }),
  // Package registries
  t('npm-access-token', 'npm access token (npm_…)', ['npm_'], ALNUM, 36, { commit: 20 }),
  t('pypi-upload-token', 'PyPI / TestPyPI upload token (pypi-AgEIcHlwaS5vcmc…)', ['pypi-AgEIcHlwaS5vcmc', 'pypi-AgENdGVzdC5weXBpLm9yZw'], B64URL, 50, { commit: 20 }),
  t('rubygems-api-key', 'RubyGems API key (rubygems_…)', ['rubygems_'], HEX, 48, { commit: 24, check: hex }),
  t('nuget-api-key', 'NuGet API key (oy2…)', ['oy2'], 'a-z0-9', 43, { max: 43, check: hex }),
  t('clojars-token', 'Clojars deploy token (CLOJARS_…)', ['CLOJARS_'], 'a-z0-9', 60, { commit: 24, check: hex }),
  t('dockerhub-pat', 'Docker Hub personal access token (dckr_pat_…)', ['dckr_pat_'], B64URL, 27, { commit: 20 }),
  // SaaS
  t('slack-bot-token', 'Slack bot token (xoxb-…)', ['xoxb-'], 'A-Za-z0-9-', 24, { commit: 20, check: anyRandom }),
  t('slack-user-token', 'Slack user token (xoxp-…)', ['xoxp-'], 'A-Za-z0-9-', 24, { commit: 20, check: anyRandom }),
  t('slack-app-token', 'Slack app-level token (xapp-…)', ['xapp-'], 'A-Za-z0-9-', 24, { commit: 20, check: anyRandom }),
  t('slack-config-token', 'Slack configuration token (xoxe.xoxp-…, xoxe-…)', ['xoxe.xoxp-', 'xoxe.xoxb-', 'xoxe-'], 'A-Za-z0-9-', 24, { commit: 20, check: anyRandom }),
  t('slack-legacy-token', 'Slack legacy / workspace token (xoxa-, xoxr-, xoxs-, xoxo-)', ['xoxa-', 'xoxr-', 'xoxs-', 'xoxo-'], 'A-Za-z0-9-', 24, { commit: 20, check: anyRandom }),
  t('slack-webhook-url', 'Slack incoming webhook URL path (hooks.slack.com/services/…)', ['hooks.slack.com/services/', 'hooks.slack.com/workflows/', 'hooks.slack.com/triggers/'], 'A-Za-z0-9/', 40, { commit: 30, keepPrefix: true, boundary: afterHost, check: anyRandom }),
  t('discord-webhook-url', 'Discord webhook URL path (discord.com/api/webhooks/…)', ['discord.com/api/webhooks/', 'discordapp.com/api/webhooks/'], 'A-Za-z0-9/_-', 70, { commit: 40, keepPrefix: true, boundary: afterHost, check: anyRandom }),
  t('telegram-bot-token-url', 'Telegram bot token in a Bot API URL (api.telegram.org/bot<token>/…)', ['api.telegram.org/bot'], 'A-Za-z0-9:_-', 44, { commit: 30, keepPrefix: true, boundary: afterHost, check: (b) => /^\d{8,10}:[A-Za-z0-9_-]/.test(b) }),
  t('stripe-secret-key', 'Stripe secret key (sk_live_…, sk_test_…)', ['sk_live_', 'sk_test_'], ALNUM, 24, { commit: 20 }),
  t('stripe-restricted-key', 'Stripe restricted key (rk_live_…, rk_test_…)', ['rk_live_', 'rk_test_'], ALNUM, 24, { commit: 20 }),
  t('stripe-webhook-secret', 'Stripe webhook signing secret (whsec_…)', ['whsec_'], B64, 32, { commit: 20 }),
  t('square-access-token', 'Square access token (EAAA…, sq0atp-…)', ['sq0atp-', 'EAAA'], B64URL, 22, { commit: 22 }),
  t('square-oauth-secret', 'Square OAuth application secret (sq0csp-…)', ['sq0csp-'], B64URL, 43, { commit: 20 }),
  t('shopify-access-token', 'Shopify access token or shared secret (shpat_, shpca_, shppa_, shpss_)', ['shpat_', 'shpca_', 'shppa_', 'shpss_'], 'a-fA-F0-9', 32, { commit: 20, check: hex }),
  t('sendgrid-api-key', 'SendGrid API key (SG.<22>.<43>)', ['SG.'], 'A-Za-z0-9_.-', 66, { commit: 30, check: (b) => /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{7}/.test(b) && randomBody(b) }),
  t('brevo-api-key', 'Brevo (Sendinblue) API key (xkeysib-…)', ['xkeysib-'], 'A-Za-z0-9-', 80, { commit: 24, check: hex }),
  t('twilio-api-key', 'Twilio API key SID secret pair (SK<32 hex>)', ['SK'], HEX, 32, { max: 32, check: hex }),
  t('mailgun-api-key', 'Mailgun API key (key-<32>)', ['key-'], ALNUM, 32, { max: 32 }),
  t('linear-api-key', 'Linear API key (lin_api_…)', ['lin_api_'], ALNUM, 40, { commit: 20 }),
  t('notion-token', 'Notion integration token (ntn_…, secret_<43>)', ['ntn_', 'secret_'], ALNUM, 40, { max: 50, check: notName }),
  t('atlassian-api-token', 'Atlassian API token (ATATT3…)', ['ATATT3'], 'A-Za-z0-9_=-', 100, { commit: 24 }),
  t('postman-api-key', 'Postman API key (PMAK-…)', ['PMAK-'], 'a-f0-9-', 59, { commit: 24, check: hex }),
  t('figma-pat', 'Figma personal access token (figd_…)', ['figd_'], B64URL, 40, { commit: 20 }),
  t('shippo-api-token', 'Shippo API token (shippo_live_…, shippo_test_…)', ['shippo_live_', 'shippo_test_'], HEX, 40, { commit: 20, check: hex }),
  t('readme-api-key', 'ReadMe API key (rdme_…)', ['rdme_'], 'a-z0-9', 70, { commit: 24, check: hex }),
  t('prefect-api-key', 'Prefect API key (pnu_…)', ['pnu_'], ALNUM, 36, { commit: 24 }),
  t('duffel-api-token', 'Duffel API token (duffel_live_…, duffel_test_…)', ['duffel_live_', 'duffel_test_'], 'A-Za-z0-9_=-', 43, { commit: 20 }),
  t('typeform-api-token', 'Typeform personal access token (tfp_…)', ['tfp_'], 'A-Za-z0-9_.-', 59, { commit: 24 }),
  t('infracost-api-token', 'Infracost API token (ico-…)', ['ico-'], ALNUM, 32, { max: 32 }),
  t('mapbox-secret-token', 'Mapbox secret access token (sk.eyJ…)', ['sk.eyJ'], 'A-Za-z0-9._-', 60, { commit: 24 }),
  t('onepassword-secret-key', '1Password account secret key (A3-XXXXXX-…)', ['A3-'], 'A-Z0-9-', 31, { commit: 20, check: (b) => /^[A-Z0-9]{6}-[A-Z0-9]{5,6}/.test(b) && anyRandom(b) }),
  t('onepassword-service-account-token', '1Password service account token (ops_eyJ…)', ['ops_eyJ'], B64, 100, { commit: 24 }),
  t('adobe-client-secret', 'Adobe client secret (p8e-…)', ['p8e-'], ALNUM, 32, { commit: 20 }),
  t('airtable-pat', 'Airtable personal access token (pat<14>.<64 hex>)', ['pat'], 'A-Za-z0-9.', 79, { commit: 24, check: (b) => /^[A-Za-z0-9]{14}\.[a-f0-9]{9}/.test(b) && randomBody(b) }),
  t('alibaba-access-key-id', 'Alibaba Cloud AccessKey ID (LTAI…)', ['LTAI'], ALNUM, 20, { max: 24, check: (b) => randomBody(b) && distinct(b) >= 12 }),
  t('aws-bedrock-api-key', 'Amazon Bedrock API key (ABSK…, bedrock-api-key-…)', ['ABSKQmVkcm9ja0FQSUtleS', 'bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t'], B64, 40, { commit: 20, check: anyRandom }),
  t('cloudflare-origin-ca-key', 'Cloudflare Origin CA key (v1.0-<24 hex>-<146 hex>)', ['v1.0-'], 'a-f0-9-', 171, { commit: 30, check: (b) => /^[a-f0-9]{24}-[a-f0-9]{5}/.test(b) && hex(b) }),
  t('easypost-api-key', 'EasyPost API key (EZAK…, EZTK…)', ['EZAK', 'EZTK'], ALNUM, 54, { commit: 24 }),
  t('flutterwave-secret-key', 'Flutterwave secret / encryption key (FLWSECK-…, FLWSECK_TEST-…)', ['FLWSECK_TEST-', 'FLWSECK-'], 'a-zA-Z0-9-', 12, { commit: 12, check: anyRandom }),
  t('frameio-api-token', 'Frame.io API token (fio-u-…)', ['fio-u-'], 'A-Za-z0-9_=-', 64, { commit: 24 }),
  t('gitlab-other-token', 'GitLab SCIM, incoming-mail, feature-flag and session tokens (glsoat-, glimt-, glffct-, glsoat-)', ['glsoat-', 'glimt-', 'glffct-'], B64URL, 20, { commit: 20 }),
  t('openshift-user-token', 'OpenShift user token (sha256~…)', ['sha256~'], B64URL, 43, { commit: 24 }),
  t('scalingo-api-token', 'Scalingo API token (tk-us-…)', ['tk-us-'], B64URL, 48, { commit: 24 }),
  t('settlemint-token', 'SettleMint access token (sm_pat_, sm_aat_, sm_sat_)', ['sm_pat_', 'sm_aat_', 'sm_sat_'], ALNUM, 16, { commit: 16 }),
  t('yandex-api-key', 'Yandex Cloud API key (AQVN…) and static access key (YC…)', ['AQVN'], B64URL, 35, { commit: 24 }),
  t('clickhouse-cloud-secret', 'ClickHouse Cloud API secret key (4b1d…)', ['4b1d'], ALNUM, 38, { max: 38, check: (b) => classCount(b) === 3 && randomBody(b) }),
  t('octopus-deploy-api-key', 'Octopus Deploy API key (API-<26 upper/digits>)', ['API-'], 'A-Z0-9', 26, { max: 26, check: (b) => /[0-9]/.test(b) && /[A-Z]/.test(b) && !looksFiller(b) }),
  t('age-secret-key', 'age encryption secret key (AGE-SECRET-KEY-1…)', ['AGE-SECRET-KEY-1'], 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58, { commit: 24, check: anyRandom }),
];

export const tokenRules = () => TOKEN_SPECS.map(tokenRule);
