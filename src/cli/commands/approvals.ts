// wiretrail approvals list|approve|deny: act on requests held by `require_approval` rules, through
// the admin API of a running proxy. The caller is the admin token holder (certs/admin.token or
// $WIRETRAIL_ADMIN_TOKEN), or an approver presenting an OIDC token with --token-file.
import { readFileSync } from 'node:fs';
import type { Command } from '../main.js';
import { CliError, UsageError, parse } from '../args.js';
import { adminFetch, readAdminToken, AdminError } from '../../admin/client.js';

const USAGE =
  'wiretrail approvals list [--admin URL] [--certs DIR] [--token-file FILE] [--json]\n' +
  '       wiretrail approvals approve ID [--window DURATION] [--admin URL] [--certs DIR] [--token-file FILE]\n' +
  '       wiretrail approvals deny ID [--reason TEXT] [--admin URL] [--certs DIR] [--token-file FILE]';

const DEFAULT_ADMIN = 'http://127.0.0.1:8081';

interface Item {
  id: string;
  rule: string;
  host: string;
  method?: string;
  path?: string;
  identity: { subject: string | null; email?: string | null };
  summary: string;
  createdAt: string;
  expiresAt: string;
}

function credential(values: { certs?: string; 'token-file'?: string }): string {
  if (values['token-file']) {
    try {
      return readFileSync(values['token-file'], 'utf8').trim();
    } catch (err) {
      throw new CliError(`--token-file: cannot read ${values['token-file']}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const token = readAdminToken(values.certs ?? './certs');
  if (!token) throw new CliError(`no admin token: pass --certs DIR (with admin.token), set WIRETRAIL_ADMIN_TOKEN, or --token-file`);
  return token;
}

async function call(base: string, path: string, token: string, body?: unknown): Promise<unknown> {
  try {
    const res = await adminFetch(base, path, { token, ...(body !== undefined ? { method: 'POST', body } : {}) });
    return await res.json();
  } catch (err) {
    if (err instanceof AdminError) throw new CliError(err.message);
    throw err;
  }
}

function table(items: Item[]): string {
  if (items.length === 0) return 'no pending approvals\n';
  const lines = items.map((i) => {
    const who = i.identity.email ?? i.identity.subject ?? 'anonymous';
    const left = Math.max(0, Math.round((Date.parse(i.expiresAt) - Date.now()) / 1000));
    return `${i.id}  rule ${i.rule}  ${who} -> ${i.host}${i.path ?? ''}  expires in ${left}s\n    ${i.summary.replace(/\s+/g, ' ').slice(0, 160)}`;
  });
  return lines.join('\n') + '\n';
}

export const command: Command = {
  summary: 'list, approve or deny requests held for approval',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        admin: { type: 'string' },
        certs: { type: 'string' },
        'token-file': { type: 'string' },
        json: { type: 'boolean' },
        window: { type: 'string' },
        reason: { type: 'string' },
      },
      USAGE,
      true,
    );
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const [sub, ...rest] = positionals;
    const base = values.admin ?? DEFAULT_ADMIN;
    if (sub === 'list') {
      if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"\nusage: ${USAGE}`);
      const out = (await call(base, '/v1/approvals', credential(values))) as { approvals: Item[] };
      process.stdout.write(values.json ? JSON.stringify(out.approvals, null, 2) + '\n' : table(out.approvals));
      return 0;
    }
    if (sub !== 'approve' && sub !== 'deny') throw new UsageError(`expected "list", "approve" or "deny"\nusage: ${USAGE}`);
    if (rest.length !== 1) throw new UsageError(`approvals ${sub} needs one approval ID\nusage: ${USAGE}`);
    if (sub === 'approve' && values.reason !== undefined) throw new UsageError('--reason is for deny');
    if (sub === 'deny' && values.window !== undefined) throw new UsageError('--window is for approve');
    const id = rest[0]!;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`"${id}" is not an approval ID`);
    const body = sub === 'approve' ? (values.window ? { window: values.window } : {}) : values.reason ? { reason: values.reason } : {};
    const out = (await call(base, `/v1/approvals/${id}/${sub}`, credential(values), body)) as { by: string; windowUntil?: string | null };
    const extra = sub === 'approve' && out.windowUntil ? `; same identity + rule allowed until ${out.windowUntil}` : '';
    process.stdout.write(`${id}: ${sub === 'approve' ? 'approved' : 'denied'} by ${out.by}${extra}\n`);
    return 0;
  },
};
