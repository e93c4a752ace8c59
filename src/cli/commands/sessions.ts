// wiretrail sessions list|show|search|tail: recorded sessions with the facts auditors filter on,
// one session as a conversation (or its raw records), text search, and a live follow.
import type { Command } from '../main.js';
import { CliError, UsageError, parse, settings, adminUrl } from '../args.js';
import { readAdminToken } from '../../admin/client.js';
import { openLocalReader, remoteReader, parseTimeArg, toWire, ReaderError, type AuditReader, type SessionSummary, type StoredRecord } from '../../audit/index.js';
import { SessionCatalog, rowMatches, sessionExchanges, sessionFacts, type SessionFacts, type SessionQuery } from '../../transcript/index.js';

const USAGE =
  'wiretrail sessions list [FILTERS] [--limit N] [--json]\n' +
  '       wiretrail sessions show ID [--raw] [--json]\n' +
  '       wiretrail sessions search TEXT [FILTERS] [--limit N] [--json]\n' +
  '       wiretrail sessions tail [FILTERS] [--json]\n' +
  'FILTERS: --user U --group G --repository R --agent A --host H --model M --decision allowed|denied|approved|tunnelled|error --since T --until T\n' +
  'Source: [--data DIR] [--certs DIR] or [--admin URL] (a running proxy). Newest sessions first.';

const iso = (ms: number) => new Date(ms).toISOString();
const DECISIONS = new Set(['allowed', 'denied', 'approved', 'tunnelled', 'error']);

const OPTIONS = {
  data: { type: 'string' },
  certs: { type: 'string' },
  admin: { type: 'string' },
  json: { type: 'boolean' },
  raw: { type: 'boolean' },
  user: { type: 'string' },
  group: { type: 'string' },
  repository: { type: 'string' },
  agent: { type: 'string' },
  host: { type: 'string' },
  model: { type: 'string' },
  decision: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  interval: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

/** The session query the flags describe (text search added by `search`). */
function queryOf(values: Values, limitDefault: number): SessionQuery {
  const q: SessionQuery = { limit: limitDefault };
  try {
    if (values.since !== undefined) q.since = parseTimeArg(values.since, '--since');
    if (values.until !== undefined) q.until = parseTimeArg(values.until, '--until');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const k of ['user', 'group', 'repository', 'agent', 'host', 'model'] as const) if (values[k] !== undefined) q[k] = values[k];
  if (values.decision !== undefined) {
    if (!DECISIONS.has(values.decision)) throw new UsageError(`--decision: expected one of ${[...DECISIONS].join(', ')}`);
    q.decision = values.decision;
  }
  if (values.limit !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(values.limit)) throw new UsageError('--limit: expected a positive integer');
    q.limit = Number(values.limit);
  }
  return q;
}

function checkArgs(sub: string | undefined, rest: string[]): void {
  if (sub !== 'list' && sub !== 'show' && sub !== 'search' && sub !== 'tail') throw new UsageError(`expected "list", "show", "search" or "tail"\nusage: ${USAGE}`);
  const want = sub === 'show' || sub === 'search' ? 1 : 0;
  if (rest.length !== want) throw new UsageError(want ? `sessions ${sub} needs one ${sub === 'show' ? 'session ID' : 'TEXT'}\nusage: ${USAGE}` : `unexpected argument "${rest[0]}"\nusage: ${USAGE}`);
}

async function openReader(values: Values): Promise<AuditReader> {
  const { certsDir, dataDir } = settings(values).config;
  try {
    return values.admin ? remoteReader(adminUrl(values.admin), readAdminToken(certsDir)) : await openLocalReader({ dataDir, certsDir });
  } catch (err) {
    if (err instanceof ReaderError) throw new CliError(err.message);
    throw err;
  }
}

export const command: Command = {
  summary: 'list, show, search or follow recorded sessions',
  async run(argv) {
    const { values, positionals } = parse(argv, OPTIONS, USAGE, true);
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const [sub, ...rest] = positionals;
    checkArgs(sub, rest);
    const query = queryOf(values, 50);
    if (sub === 'search') query.q = rest[0]!;
    const reader = await openReader(values);
    try {
      if (sub === 'show') return await show(reader, rest[0]!, values);
      const catalog = new SessionCatalog(reader);
      if (sub === 'tail') return await tail(catalog, query, values);
      const result = await catalog.query(query);
      if (values.json) process.stdout.write(JSON.stringify(result.rows, null, 2) + '\n');
      else process.stdout.write(factsTable(result.rows));
      if (result.truncated) process.stderr.write('note: the index walk stopped early (these filters rarely meet); narrow the time range (--since/--until) for older sessions\n');
      return 0;
    } finally {
      await reader.close();
    }
  },
};

async function show(reader: AuditReader, id: string, values: Values): Promise<number> {
  const shown = await reader.showSession(id);
  if (!shown) throw new CliError(`no session ${JSON.stringify(id)} in the log`);
  const broken = chainBreak(shown.records);
  if (values.json) process.stdout.write(JSON.stringify({ summary: shown.summary, records: shown.records.map(toWire), chainIntact: broken === null }, null, 2) + '\n');
  else if (values.raw) process.stdout.write(transcript(shown.summary, shown.records));
  else process.stdout.write(conversation(shown.summary, shown.records));
  if (broken !== null) {
    process.stderr.write(`warning: the session chain is broken at seq ${broken}; run wiretrail verify\n`);
    return 1;
  }
  return 0;
}

/** Follows the log: prints each session as it starts or changes, until interrupted. */
async function tail(catalog: SessionCatalog, query: SessionQuery, values: Values): Promise<number> {
  const intervalMs = values.interval !== undefined ? Math.max(100, Number(values.interval) || 1000) : 1000;
  const seen = new Map<string, string>();
  let since = Date.now() - 60_000;
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (!values.json) process.stdout.write(FACT_HEAD.join('  ') + '\n');
  try {
    while (!stop) {
      const rows = (await catalog.active(Math.max(since, query.since ?? 0))).filter((r) => rowMatches(r, query)).slice(0, 200);
      for (const f of rows.reverse()) {
        const version = `${f.lastTs}:${f.requests}:${f.ended}`;
        if (seen.get(f.session) === version) continue;
        seen.set(f.session, version);
        process.stdout.write(values.json ? JSON.stringify(f) + '\n' : factRow(f).join('  ') + '\n');
      }
      since = Date.now() - 60_000;
      if (seen.size > 10_000) seen.clear();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

const FACT_HEAD = ['TIME', 'SESSION', 'USER', 'AGENT', 'HOST', 'MODEL', 'REQS', 'TOKENS', 'MASKED', 'DECISION'];

function factRow(f: SessionFacts): string[] {
  return [iso(f.firstTs), f.session, f.subject ?? '-', f.agent ?? '-', f.host ?? '-', f.models.join(',') || '-', String(f.requests), String(f.tokens), String(f.masked), f.decision];
}

function factsTable(rows: SessionFacts[]): string {
  if (!rows.length) return 'no sessions\n';
  const cells = rows.map(factRow);
  const w = FACT_HEAD.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  return [FACT_HEAD, ...cells].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n') + '\n';
}

/** The session as a conversation: each exchange's prompt and reassembled answer. */
function conversation(s: SessionSummary, records: StoredRecord[]): string {
  const exchanges = sessionExchanges(records);
  const f = sessionFacts(s, records, exchanges);
  const out = [`session ${s.session}: ${iso(s.firstTs)} .. ${iso(s.lastTs)}, ${s.ended ? 'ended' : 'open'}, ${f.subject ?? 'anonymous'}${f.agent ? `, ${f.agent}` : ''}, ${f.decision}, ${s.count} records (--raw shows them)`];
  for (const e of exchanges) {
    out.push('', `#${e.n} ${e.method} ${e.host}${e.path.split('?')[0]}  ${e.model ?? ''}  status ${e.status ?? '-'} ${e.outcome}${e.durationMs !== null ? ` ${e.durationMs} ms` : ''}${e.reason ? `: ${e.reason}` : ''}`);
    for (const t of [...e.prompt, ...e.answer]) {
      const label = t.name ? `${t.role} ${t.name}` : t.role;
      out.push(`  ${label}:`, t.text.replace(/^/gm, '    '));
    }
  }
  if (!exchanges.length) out.push('', '(no exchange: see --raw for the session records)');
  return out.join('\n') + '\n';
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
