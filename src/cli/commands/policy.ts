// wiretrail policy check|explain: validate a policy file, and dry-run one request against its rules.
import { readFileSync } from 'node:fs';
import type { Command } from '../main.js';
import { CliError, UsageError, parse } from '../args.js';
import { Policy, policySchema, yamlProblems, normalizeHost, promptOfJson, type Evaluation } from '../../policy/index.js';
import type { Identity } from '../../identity/types.js';

const USAGE =
  'wiretrail policy check FILE\n' +
  '       wiretrail policy explain --policy FILE --request REQ.json [--identity CLAIMS.json] [--host H] [--method M] [--path P] [--json]';

function readJson(file: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${flag}: ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Problems as FILE:LINE: key: message lines; the Policy constructor's checks come after the schema's. */
export function checkPolicyFile(file: string): { problems: string[]; policy: Policy | null } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problems: [`${file}:0: (file): cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], policy: null };
  }
  const { value, problems } = yamlProblems(text, policySchema, file);
  if (problems.length || !value) return { problems, policy: null };
  try {
    return { problems: [], policy: new Policy(value) };
  } catch (err) {
    return { problems: [`${file}:?: ${(err as Error).message}`], policy: null };
  }
}

/** An identity from a claims file: OIDC-style claims ({sub, groups, email, …}) or wiretrail's own shape. */
export function identityFromClaims(v: unknown): Identity {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CliError('--identity: expected a JSON object of claims');
  const c = v as Record<string, unknown>;
  const subject = typeof c.sub === 'string' ? c.sub : typeof c.subject === 'string' ? c.subject : null;
  const groups = Array.isArray(c.groups) ? c.groups.filter((g): g is string => typeof g === 'string') : [];
  const attributes: Record<string, string> = {};
  const source = c.attributes && typeof c.attributes === 'object' ? (c.attributes as Record<string, unknown>) : c;
  for (const [k, val] of Object.entries(source)) if (typeof val === 'string' && !['sub', 'subject', 'email', 'iss', 'kind'].includes(k)) attributes[k] = val;
  return {
    kind: subject === null ? 'anonymous' : 'oidc',
    subject,
    groups,
    attributes,
    expiresAt: null,
    ...(typeof c.email === 'string' ? { email: c.email } : {}),
    ...(typeof c.iss === 'string' ? { issuer: c.iss } : {}),
  };
}

/** The request path when REQ.json does not give one: the endpoint its body shape belongs to. */
function guessPath(body: unknown, host: string): string {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const model = typeof b.model === 'string' ? b.model : 'gemini-2.0-flash';
  if ('contents' in b) return `/v1beta/models/${encodeURIComponent(model)}:generateContent`;
  if (host === 'api.anthropic.com' || ('system' in b && 'max_tokens' in b)) return '/v1/messages';
  if ('input' in b || 'instructions' in b) return '/v1/responses';
  if ('prompt' in b && !('messages' in b)) return '/v1/completions';
  return '/v1/chat/completions';
}

function explainText(ev: Evaluation, req: { method: string; host: string; path: string }, policy: Policy): string {
  const lines = [`request: ${req.method} https://${req.host}${req.path}`];
  for (const t of ev.trace) {
    const idx = policy.rules.rules.find((r) => r.name === t.rule)!.index;
    lines.push(`rule ${idx} ${t.rule}: ${t.matched ? 'MATCH' : 'no match'} — ${t.why.join('; ')}`);
  }
  const r = ev.rule;
  if (!r) lines.push(`decision: allow (no rule matched${policy.rules.size ? '' : ': the policy has no rules'})`);
  else {
    let extra = '';
    if (r.action === 'deny') extra = ` — reason: ${r.reason}`;
    if (r.approval) extra = ` — held up to ${r.approval.timeoutMs / 1000}s for approvers ${JSON.stringify(r.approval.approvers)}${r.approval.windowMs ? `, window ${r.approval.windowMs / 1000}s` : ''}`;
    if (r.requestsPerMinute) extra += ` — rate limit ${r.requestsPerMinute}/min per identity`;
    lines.push(`decision: ${r.action} (rule ${r.name})${extra}; record: ${r.record}`);
  }
  return lines.join('\n') + '\n';
}

async function explain(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { policy: { type: 'string' }, request: { type: 'string' }, identity: { type: 'string' }, host: { type: 'string' }, method: { type: 'string' }, path: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
    true,
  );
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE}`);
  if (!values.policy || !values.request) throw new UsageError(`explain needs --policy FILE and --request REQ.json\nusage: ${USAGE}`);
  const checked = checkPolicyFile(values.policy);
  if (!checked.policy) throw new CliError(checked.problems[0]!);
  const policy = checked.policy;
  const raw = readJson(values.request, '--request') as Record<string, unknown>;
  // REQ.json is either the request body itself, or {method, host, path, body} around it.
  const envelope = raw && typeof raw === 'object' && 'body' in raw && ('path' in raw || 'method' in raw || 'host' in raw);
  const body = envelope ? raw.body : raw;
  const hostRaw = values.host ?? (envelope && typeof raw.host === 'string' ? raw.host : 'api.openai.com');
  const host = normalizeHost(hostRaw);
  if (!host) throw new UsageError(`--host: "${hostRaw}" is not a host name`);
  const method = (values.method ?? (envelope && typeof raw.method === 'string' ? raw.method : 'POST')).toUpperCase();
  const path = values.path ?? (envelope && typeof raw.path === 'string' ? raw.path : guessPath(body, host));
  const identity = values.identity ? identityFromClaims(readJson(values.identity, '--identity')) : identityFromClaims({});
  const prompt = promptOfJson(body, path);
  const ev = policy.rules.evaluate({ host, method, path, identity, prompt: () => prompt });
  if (values.json) {
    const r = ev.rule;
    process.stdout.write(
      JSON.stringify(
        {
          request: { method, host, path, model: prompt.model, identity: { subject: identity.subject, groups: identity.groups, attributes: identity.attributes } },
          decision: r ? r.action : 'allow',
          rule: r?.name ?? null,
          reason: r?.reason ?? null,
          record: r?.record ?? 'full',
          rateLimit: r?.requestsPerMinute ?? null,
          approval: r?.approval ?? null,
          why: ev.why,
          trace: ev.trace,
        },
        null,
        2,
      ) + '\n',
    );
  } else process.stdout.write(explainText(ev, { method, host, path }, policy));
  return 0;
}

export const command: Command = {
  summary: 'check a policy file, or explain which rule applies to a request (dry run)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h' || sub === undefined) {
      process[sub ? 'stdout' : 'stderr'].write(`usage: ${USAGE}\n`);
      return sub ? 0 : 2;
    }
    if (sub === 'explain') return explain(rest);
    if (sub !== 'check') throw new UsageError(`expected "check" or "explain"\nusage: ${USAGE}`);
    const { positionals } = parse(rest, {}, USAGE, true);
    if (positionals.length !== 1) throw new UsageError(`policy check needs one FILE\nusage: ${USAGE}`);
    const file = positionals[0]!;
    const { problems, policy } = checkPolicyFile(file);
    if (problems.length) {
      process.stderr.write(problems.join('\n') + '\n');
      return 1;
    }
    process.stdout.write(`${file}: valid (${policy!.rules.size} rules)\n`);
    return 0;
  },
};
