// Policy file schema (YAML). Validated at start; unknown keys are errors so typos never pass silently.
import { parseSourceRange } from '../identity/by-source.js';
import { z } from 'zod';
import { approvalsSchema, rulesSchema, hostPattern } from './rules-schema.js';

/** An upstream credential the proxy injects; the value is a template of ${env:NAME} / ${file:/path}. */
export const credentialSchema = z
  .object({
    header: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'),
    value: z.string().min(1),
    /** Only for callers in one of these groups; the first matching entry wins. Omitted = everyone. */
    groups: z.array(z.string()).optional(),
  })
  .strict();

/**
 * An AWS credential the proxy signs with (SigV4): the runner holds none, and a masked body is signed as
 * sent. Key fields are templates like `credentials[].value`; region and service default to what the
 * host name says (bedrock-runtime.{region}.amazonaws.com → region, `bedrock`).
 */
export const awsSigv4Schema = z
  .object({
    access_key_id: z.string().min(1),
    secret_access_key: z.string().min(1),
    session_token: z.string().min(1).optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1').optional(),
    service: z.string().regex(/^[a-z0-9-]+$/, 'an AWS signing name such as bedrock').optional(),
    /** Only for callers in one of these groups; the first matching entry wins. Omitted = everyone. */
    groups: z.array(z.string()).optional(),
  })
  .strict();

export const maskSideSchema = z
  .object({
    request: z.boolean().optional(),
    response: z.boolean().optional(),
  })
  .strict();

export const hostSettingsSchema = z
  .object({
    mask: maskSideSchema.optional(),
    credentials: z.array(credentialSchema).optional(),
    /** Header names the client may send that carry its own API key; removed and replaced on injection. */
    strip_headers: z.array(z.string()).optional(),
    /** A signed request body (AWS SigV4) that masking would change: refuse (default) or pass it unmasked. */
    signed_body: z.enum(['refuse', 'pass']).optional(),
    /** Sign upstream requests with this AWS credential (SigV4) instead of forwarding the client's signature. */
    aws_sigv4: z.array(awsSigv4Schema).min(1).optional(),
  })
  .strict();

export const customRuleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    regex: z.string().min(1),
    keyword: z.string().optional(),
  })
  .strict();

export const oidcIssuerSchema = z
  .object({
    issuer: z.string().url(),
    audience: z.union([z.string(), z.array(z.string()).min(1)]),
    /** One of: discovery (default when neither jwks_uri nor jwks_file is given), a JWKS URL, a JWKS file. */
    jwks_uri: z.string().url().optional(),
    jwks_file: z.string().optional(),
    algorithms: z.array(z.string()).optional(),
    /** Dotted path to the groups claim, e.g. `groups` or `realm_access.roles`. */
    groups_claim: z.string().optional(),
    /** Extra trusted roots for fetching discovery / JWKS (PEM files). */
    ca_file: z.string().optional(),
    /**
     * Claims every token of this issuer must carry: claim path -> allowed value(s), exact or glob
     * (`*`, `?`). Required to pin the owner for multi-tenant issuers (identity/multi-tenant.ts).
     */
    required_claims: z.record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])).optional(),
  })
  .strict();

/** An address or CIDR for identity.by_source, checked at load. */
const sourceRange = z.string().refine(
  (s) => {
    try {
      parseSourceRange(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IP address or CIDR (10.0.0.0/8, 127.0.0.2, fd00::/8)' },
);

export const policySchema = z
  .object({
    version: z.literal(1).optional(),
    /** audit: non-intercepted hosts are tunnelled blind and logged; enforce: refused unless in `tunnel`. */
    egress: z.enum(['audit', 'enforce']).default('audit'),
    intercept: z.array(hostPattern).optional(),
    tunnel: z.array(hostPattern).default([]),
    /** Host names allowed to resolve to private / loopback / link-local addresses (SSRF guard). */
    allow_private: z.array(hostPattern).default([]),
    auth: z.enum(['off', 'optional', 'required']).default('off'),
    /** Identities for clients that send no Proxy-Authorization, by client address (docs/identity.md). */
    identity: z
      .object({
        by_source: z
          .array(
            z
              .object({
                source: z.union([sourceRange, z.array(sourceRange).min(1)]),
                subject: z.string().min(1).max(200),
                groups: z.array(z.string().min(1).max(200)).default([]),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .optional(),
    oidc: z
      .object({
        issuers: z.array(oidcIssuerSchema).default([]),
        clock_skew_seconds: z.number().int().min(0).max(600).default(60),
        /** Attribute name -> dotted claim path, added to the defaults (GitHub Actions, GitLab CI). */
        claims: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    tokens: z
      .object({
        default_ttl_seconds: z.number().int().positive().default(3600),
        max_ttl_seconds: z.number().int().positive().default(86400),
      })
      .strict()
      .optional(),
    hosts: z.record(z.string(), hostSettingsSchema).default({}),
    mask: z
      .object({
        request: z.boolean().default(true),
        response: z.boolean().default(true),
        /** Template: {rule} and {n} are replaced. */
        placeholder: z.string().default('[MASKED:{rule}#{n}]'),
        rules: z.array(customRuleSchema).default([]),
        /** Values never masked (documented example keys of your own). */
        allow: z.array(z.string()).default([]),
      })
      .strict()
      .default({ request: true, response: true, placeholder: '[MASKED:{rule}#{n}]', rules: [], allow: [] }),
    /** Request rules, first match wins; no match = allow (see docs/policy.md). */
    rules: rulesSchema,
    approvals: approvalsSchema.optional(),
  })
  .strict();

export type PolicyDoc = z.infer<typeof policySchema>;
export type HostSettings = z.infer<typeof hostSettingsSchema>;
export type CredentialSpec = z.infer<typeof credentialSchema>;
export type AwsSigv4Spec = z.infer<typeof awsSigv4Schema>;
export type OidcIssuerSpec = z.infer<typeof oidcIssuerSchema>;
export type CustomRule = z.infer<typeof customRuleSchema>;
export type MaskPolicy = PolicyDoc['mask'];

export const DEFAULT_INTERCEPT: readonly string[] = [
  'api.openai.com',
  '*.openai.azure.com',
  'api.githubcopilot.com',
  'api.individual.githubcopilot.com',
  'api.business.githubcopilot.com',
  'api.enterprise.githubcopilot.com',
  'api.anthropic.com',
  'generativelanguage.googleapis.com',
  'bedrock-runtime.*.amazonaws.com', // Bedrock runtime in every region (the control plane bedrock.* is not model traffic)
  // Vertex AI: the global endpoint and every regional one (us-east5-aiplatform.googleapis.com, …).
  'aiplatform.googleapis.com',
  '*-aiplatform.googleapis.com',
  // Google's OAuth token endpoint: where Vertex clients (ADC) trade their refresh token for the access token
  // the Vertex calls carry. Recorded (masked) so the log shows which credential minted them; both the body
  // and the answer are forwarded intact (credential exchange, src/proxy/signed-requests.ts).
  'oauth2.googleapis.com',
];
