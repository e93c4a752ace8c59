// The Google side of the agent suite's fake provider: the OAuth token endpoint that Application Default
// Credentials (type authorized_user) refresh against, and Vertex AI's Claude and Gemini endpoints. Both check
// what the real ones check: a refresh token that arrives altered (e.g. `[MASKED:…]`) gets `invalid_grant`, a
// Vertex call without the access token minted here gets 401, so an agent only answers when wiretrail forwarded
// the credentials intact. Each request's outcome goes into the provider's `seen` log for the test.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const VERTEX_PROJECT = 'wiretrail-agent-suite';
export const VERTEX_REGION = 'us-east5';
export const VERTEX_HOSTS = [`${VERTEX_REGION}-aiplatform.googleapis.com`, 'aiplatform.googleapis.com', 'oauth2.googleapis.com'];
/** Fake ADC values, in the shapes gcloud writes (client id and secret are gcloud's public installed-app pair). */
export const ADC = {
  type: 'authorized_user',
  client_id: '764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com',
  client_secret: 'd-FL95Q19q7MQmFpd7hHD0Ty',
  refresh_token: '1//0gFAKEagentSuiteR3fr3shT0k3nCgYIARAAGBASNwF-L9IrQmFAKEqW1xZ7yN0pB4sT6vR8kJ2',
};
export const ACCESS_TOKEN = 'ya29.a0FAKEagentSuiteAcc3ssT0k3n_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0BcDeFgHiJkLmNoP';

/** Writes the ADC file where gcloud does (`gcloud auth application-default login`); returns its path. */
export function writeGcloudAdc(home: string): string {
  const dir = join(home, '.config', 'gcloud');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'application_default_credentials.json');
  writeFileSync(file, JSON.stringify(ADC, null, 2), { mode: 0o600 });
  return file;
}

export type Outcome = 'refresh-token-intact' | 'invalid_grant' | 'bearer-ok' | 'bearer-refused' | 'bad-request';

export interface Answers {
  anthropic(body: Record<string, unknown>, res: ServerResponse): void;
  gemini(path: string, res: ServerResponse): void;
}

const VERTEX_MODEL = /^\/v1(?:beta1)?\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(anthropic|google)\/models\/[^/:]+:(\w+)$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function tokenEndpoint(raw: string, res: ServerResponse): Outcome {
  const f = new URLSearchParams(raw);
  const intact = f.get('grant_type') === 'refresh_token' && f.get('refresh_token') === ADC.refresh_token && f.get('client_id') === ADC.client_id && f.get('client_secret') === ADC.client_secret;
  if (!intact) {
    json(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
    return 'invalid_grant';
  }
  json(res, 200, { access_token: ACCESS_TOKEN, expires_in: 3599, scope: 'https://www.googleapis.com/auth/cloud-platform openid', token_type: 'Bearer' });
  return 'refresh-token-intact';
}

/** Handles the Google hosts; null when the request is not one of theirs (the caller answers it). */
export function googleRoute(host: string, req: IncomingMessage, raw: string, body: Record<string, unknown>, res: ServerResponse, answers: Answers): Outcome | null {
  const [pathname] = (req.url ?? '/').split('?');
  if (host === 'oauth2.googleapis.com' && req.method === 'POST' && pathname === '/token') return tokenEndpoint(raw, res);
  if (!host.endsWith('aiplatform.googleapis.com')) return null;
  const m = VERTEX_MODEL.exec(pathname!);
  if (!m || req.method !== 'POST') return null;
  if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
    json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    return 'bearer-refused';
  }
  const [, project, location, publisher] = m;
  const regional = host !== 'aiplatform.googleapis.com';
  if (project !== VERTEX_PROJECT || regional !== (location !== 'global')) {
    json(res, 400, { error: { code: 400, message: `wrong project or location ${project}/${location} for ${host}`, status: 'INVALID_ARGUMENT' } });
    return 'bad-request';
  }
  if (publisher === 'anthropic') {
    if (body['anthropic_version'] !== 'vertex-2023-10-16' || 'model' in body) {
      json(res, 400, { error: { code: 400, message: 'anthropic_version must be vertex-2023-10-16 and the model is in the URL', status: 'INVALID_ARGUMENT' } });
      return 'bad-request';
    }
    answers.anthropic(body, res);
  } else {
    answers.gemini(pathname!, res);
  }
  return 'bearer-ok';
}
