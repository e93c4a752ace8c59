// The AWS credential a host's policy gives wiretrail to sign with (`hosts.*.aws_sigv4`), resolved for one
// caller: the first entry whose `groups` meet the caller's; key fields are ${env:}/${file:} templates read
// at each request (rotated secret files are picked up), never literal keys in the policy.
import type { HostSettings } from '../policy/index.js';
import type { Identity } from './types.js';
import { CredentialError, parseTemplate, resolveTemplate } from './upstream-credential.js';

export interface AwsSigningCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** From the policy; absent = what the host name says. */
  region?: string;
  service?: string;
}

/** null when the host's policy holds no AWS credential; throws CredentialError (403 not for you, 502 unavailable). */
export function awsSigningCredential(settings: HostSettings, identity: Identity, host: string): AwsSigningCredential | null {
  const entries = settings.aws_sigv4 ?? [];
  if (entries.length === 0) return null;
  const entry = entries.find((e) => !e.groups || e.groups.some((g) => identity.groups.includes(g)));
  if (!entry) throw new CredentialError(`no AWS credential for ${host} is configured for your groups`, 403);
  const value = (template: string): string => {
    try {
      return resolveTemplate(parseTemplate(template), host);
    } catch (err) {
      if (err instanceof CredentialError) throw err;
      throw new CredentialError(`AWS credential for ${host}: ${(err as Error).message}`, 502);
    }
  };
  const out: AwsSigningCredential = { accessKeyId: value(entry.access_key_id), secretAccessKey: value(entry.secret_access_key) };
  if (entry.session_token !== undefined) out.sessionToken = value(entry.session_token);
  if (entry.region !== undefined) out.region = entry.region;
  if (entry.service !== undefined) out.service = entry.service;
  return out;
}
