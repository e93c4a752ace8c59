// Schema of the `rules:` and `approvals:` sections of the policy file. Rules are data: every field is
// checked at load (regexes compiled, host patterns parsed, durations read), so a policy that loads
// cannot fail later on a request.
import { z } from 'zod';
import { parseHostPattern } from './hosts.js';
import { regexProblem } from './regex.js';
import { parseDurationMs } from './duration.js';

const nonEmpty = z.string().min(1);
const list = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1, 'must list at least one value');

/** A host pattern of the policy (see hosts.ts), checked when the file loads. */
export const hostPattern = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    try {
      parseHostPattern(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

const promptRegex = nonEmpty.superRefine((v, ctx) => {
  const problem = regexProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A duration such as 30s, 5m, 1h30m (or whole seconds), as milliseconds. */
export const durationMs = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `invalid duration "${v}": use e.g. 30s, 5m, 2h, 1h30m` });
    return z.NEVER;
  }
  return ms;
});

export const identityMatchSchema = z
  .object({
    groups: list(nonEmpty).optional(),
    subjects: list(nonEmpty).optional(),
    /** Attribution claim name -> globs (`repository: ["org/*"]`); every listed claim must match. */
    claims: z.record(z.string(), list(nonEmpty)).optional(),
  })
  .strict();

export const matchSchema = z
  .object({
    hosts: list(hostPattern).optional(),
    methods: list(z.string().regex(/^[A-Za-z]+$/, 'must be an HTTP method such as POST')).optional(),
    paths: list(z.string().regex(/^\/[^*]*\*?$/, 'must start with / and may only end with *')).optional(),
    identity: identityMatchSchema.optional(),
    models: list(nonEmpty).optional(),
    prompt: z
      .object({
        contains: list(nonEmpty).optional(),
        regex: list(promptRegex).optional(),
      })
      .strict()
      .refine((p) => p.contains !== undefined || p.regex !== undefined, 'needs contains or regex')
      .optional(),
  })
  .strict();

export const approversSchema = z
  .object({
    groups: list(nonEmpty).optional(),
    subjects: list(nonEmpty).optional(),
  })
  .strict();

export const approvalSchema = z
  .object({
    timeout: durationMs.default(5 * 60_000),
    /** Who may approve with an OIDC token besides the admin token holder. */
    approvers: approversSchema.optional(),
    /** After an approval, the same identity + rule is allowed for this long (approve --window overrides). */
    window: durationMs.optional(),
  })
  .strict();

export const ruleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits and ._- (up to 100)'),
    match: matchSchema.default({}),
    action: z.enum(['allow', 'deny', 'require_approval']),
    reason: z.string().min(1).max(500).optional(),
    approval: approvalSchema.optional(),
    rate_limit: z.object({ requests_per_minute: z.number().int().positive().max(1_000_000) }).strict().optional(),
    /** metadata: the exchange's records keep sizes, timings and body hashes but no bodies. */
    record: z.enum(['full', 'metadata']).default('full'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.approval && r.action !== 'require_approval') {
      ctx.addIssue({ code: 'custom', path: ['approval'], message: 'only for action: require_approval' });
    }
  });

export const rulesSchema = z
  .array(ruleSchema)
  .default([])
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate rule name "${r.name}"` });
      seen.add(r.name);
    });
  });

export const webhookSchema = z
  .object({
    url: z.string().url().refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
    /** HMAC-SHA256 key for the X-Wiretrail-Signature-256 header. */
    secret: z
      .string()
      .refine((v) => /^\$\{(env|file):[^}]+\}$/.test(v) || v.length >= 16, 'use a secret of at least 16 characters, or ${env:NAME} / ${file:/path}')
      .optional(),
    /** wiretrail: the JSON event; slack: a Slack-compatible {text, blocks} body. */
    format: z.enum(['wiretrail', 'slack']).default('wiretrail'),
    max_attempts: z.number().int().min(1).max(20).default(6),
  })
  .strict();

export const approvalsSchema = z
  .object({
    webhook: webhookSchema.optional(),
    /** Base URL of the admin API / UI used in approve/deny links (default: the admin listen address). */
    public_url: z.string().url().optional(),
    /** Interval of SSE comments sent to a held streaming request while it waits. */
    keepalive: durationMs.default(15_000),
    /** Bound on requests held at once; more are answered 503 with Retry-After. */
    max_pending: z.number().int().positive().max(100_000).default(1000),
  })
  .strict();

export type RuleSpec = z.infer<typeof ruleSchema>;
export type MatchSpec = z.infer<typeof matchSchema>;
export type ApprovalSpec = z.infer<typeof approvalSchema>;
export type ApprovalsSpec = z.infer<typeof approvalsSchema>;
export type WebhookSpec = z.infer<typeof webhookSchema>;
export type RuleAction = RuleSpec['action'];
