// wiretrail sessions list|show: the recorded sessions and one session's transcript.
import type { Command } from '../main.js';
import { CliError, UsageError, parse } from '../args.js';
import { readAdminToken } from '../../admin/client.js';
import { openLocalReader, remoteReader, parseTimeArg, toWire, ReaderError, type AuditReader, type SessionSummary, type StoredRecord } from '../../audit/index.js';

const USAGE =
  'wiretrail sessions list [--data DIR] [--user U] [--since T] [--until T] [--limit N] [--admin URL] [--json]\n' +
  '       wiretrail sessions show ID [--data DIR] [--admin URL] [--json]';

const iso = (ms: number) => new Date(ms).toISOString();

export const command: Command = {
  summary: 'list recorded sessions, or print one session transcript',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        data: { type: 'string' },
        certs: { type: 'string' },
        admin: { type: 'string' },
        json: { type: 'boolean' },
        user: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
      },
      USAGE,
      true,
    );
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const [sub, ...rest] = positionals;
    if (sub !== 'list' && sub !== 'show') throw new UsageError(`expected "list" or "show"\nusage: ${USAGE}`);
    if (sub === 'list' && rest.length) throw new UsageError(`unexpected argument "${rest[0]}"\nusage: ${USAGE}`);
    if (sub === 'show' && rest.length !== 1) throw new UsageError(`sessions show needs one session ID\nusage: ${USAGE}`);
    const filter: { since?: number; until?: number; user?: string; limit?: number } = {};
    try {
      if (values.since !== undefined) filter.since = parseTimeArg(values.since, '--since');
      if (values.until !== undefined) filter.until = parseTimeArg(values.until, '--until');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.user !== undefined) filter.user = values.user;
    if (values.limit !== undefined) {
      if (!/^[1-9]\d{0,8}$/.test(values.limit)) throw new UsageError('--limit: expected a positive integer');
      filter.limit = Number(values.limit);
    }
    const certsDir = values.certs ?? './certs';
    let reader: AuditReader;
    try {
      reader = values.admin ? remoteReader(values.admin, readAdminToken(certsDir)) : await openLocalReader({ dataDir: values.data ?? './data', certsDir });
    } catch (err) {
      if (err instanceof ReaderError) throw new CliError(err.message);
      throw err;
    }
    try {
      if (sub === 'list') {
        const sessions = await reader.listSessions(filter);
        if (values.json) process.stdout.write(JSON.stringify(sessions, null, 2) + '\n');
        else process.stdout.write(table(sessions));
        return 0;
      }
      const shown = await reader.showSession(rest[0]!);
      if (!shown) throw new CliError(`no session ${JSON.stringify(rest[0])} in the log`);
      const broken = chainBreak(shown.records);
      if (values.json) process.stdout.write(JSON.stringify({ summary: shown.summary, records: shown.records.map(toWire), chainIntact: broken === null }, null, 2) + '\n');
      else process.stdout.write(transcript(shown.summary, shown.records));
      if (broken !== null) {
        process.stderr.write(`warning: the session chain is broken at seq ${broken}; run wiretrail verify\n`);
        return 1;
      }
      return 0;
    } finally {
      await reader.close();
    }
  },
};

function table(sessions: SessionSummary[]): string {
  if (!sessions.length) return 'no sessions\n';
  const rows = sessions.map((s) => [iso(s.firstTs), s.session, String(s.count), s.ended ? 'ended' : 'open', s.agents?.join(',') || '-', s.users.join(',') || '-']);
  const head = ['FIRST SEEN', 'SESSION', 'RECORDS', 'STATE', 'AGENT', 'USERS'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n') + '\n';
}

/** The seq where sessionPrev stops matching, or null. */
function chainBreak(records: StoredRecord[]): number | null {
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const prev = i === 0 ? null : records[i - 1]!.hash;
    if (r.sessionSeq !== i || r.sessionPrev !== prev) return r.seq;
  }
  return null;
}

function bodyText(r: StoredRecord): string | null {
  if (r.body === null) return r.bodyHash === null ? null : r.bodyPruned ? '(body pruned by retention)' : '(body missing)';
  const s = r.body.toString('utf8');
  // Show text as text; anything else as a size and hash only.
  if (!/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(s)) return s;
  return `(${r.body.length} bytes binary, sha256 ${r.bodyHash})`;
}

function transcript(s: SessionSummary, records: StoredRecord[]): string {
  const out = [
    `session ${s.session}: ${s.count} records, ${s.ended ? 'ended' : 'open'}, ${iso(s.firstTs)} .. ${iso(s.lastTs)}${s.agents?.length ? `, agent ${s.agents.join(', ')}` : ''}${s.users.length ? `, users ${s.users.join(', ')}` : ''}`,
  ];
  for (const r of records) {
    out.push(`#${r.sessionSeq} seq ${r.seq} ${iso(r.ts)} ${r.kind} ${JSON.stringify(r.meta)}`);
    const body = bodyText(r);
    if (body !== null) out.push(body.replace(/^/gm, '    '));
  }
  return out.join('\n') + '\n';
}
