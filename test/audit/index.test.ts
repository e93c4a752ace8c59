// Session indexes maintained at ingest: every filter, text search, newest-first pages with a cursor,
// the same facts transcript/session.ts derives from the whole session, the same index keys after a
// kill -9 in the middle of an exchange (segments replayed), and no word of a pruned body left.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog, type AuditLog, type SessionIndexQuery } from '../../src/audit/index.js';
import { openDb } from '../../src/audit/store.js';
import { sessionFacts } from '../../src/transcript/index.js';
import { quiet, tempDirs } from './helpers.js';
import { writeFixture, NEWEST_FIRST } from './index-fixture.js';

const child = fileURLToPath(new URL('./index-crash-child.ts', import.meta.url));
const INDEX_PREFIXES = ['f/', 'v/', 'w/', 'x/'];

async function ids(log: AuditLog, q: Partial<SessionIndexQuery>): Promise<string[]> {
  const page = await log.reader.querySessions({ limit: 50, ...q });
  return page.sessions.map((s) => s.summary.session);
}

/** Every index key and value in a closed store. */
async function indexDump(dataDir: string): Promise<Map<string, string>> {
  const db = await openDb(dataDir, { create: false });
  const out = new Map<string, string>();
  try {
    for (const p of INDEX_PREFIXES) for await (const [k, v] of db.iterator({ gte: p, lt: p.slice(0, -1) + '0' })) out.set(k, v.toString('utf8'));
  } finally {
    await db.close();
  }
  return out;
}

t.test('filters, search, newest first, cursor pages, facts equal to the whole-session derivation', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'index.test/log', checkpointEveryRecords: 7 });
  t.teardown(() => log.close());
  await writeFixture(log, 'all');
  await log.drained();
  t.same(await ids(log, {}), NEWEST_FIRST, 'newest first');
  t.same(await ids(log, { limit: 2 }), NEWEST_FIRST.slice(0, 2), 'a limit keeps the newest');
  t.same(await ids(log, { host: 'api.openai.com' }), ['held', 'broken', 'tides']);
  t.same(await ids(log, { host: 'API.Anthropic.com' }), ['long'], 'values are matched without case');
  t.same(await ids(log, { host: 'github.com' }), ['tunnel'], 'host of a tunnel from its target');
  t.same(await ids(log, { model: 'claude' }), ['long'], 'a model by its leading part');
  t.same(await ids(log, { model: 'gpt-4.1' }), ['held', 'broken', 'tides']);
  t.same(await ids(log, { model: 'gpt' }), ['held', 'broken', 'tides']);
  t.same(await ids(log, { model: 'gpt-4' }), [], 'leading parts end at a dash');
  t.same(await ids(log, { model: 'gpt-4.1-mini' }), ['held', 'tides']);
  t.same(await ids(log, { agent: 'claude-code' }), ['long'], 'agent from meta.agent');
  t.same(await ids(log, { agent: 'openai-node' }), ['held', 'tides'], 'agent from the User-Agent');
  t.same(await ids(log, { agent: 'curl/8.0' }), ['broken'], 'agent with its version');
  t.same(await ids(log, { user: 'alice' }), ['held', 'broken', 'long', 'tunnel']);
  t.same(await ids(log, { user: 'ci@acme.example' }), ['tides'], 'user by email');
  t.same(await ids(log, { group: 'ci' }), ['tides']);
  t.same(await ids(log, { group: 'dev' }), ['held', 'broken', 'long', 'tunnel', 'tides']);
  t.same(await ids(log, { repository: 'acme/app' }), ['tides'], 'CI claims');
  for (const [d, want] of [['denied', ['denied']], ['tunnelled', ['tunnel']], ['error', ['broken']], ['approved', ['held']], ['allowed', ['long', 'tides']]] as const) {
    t.same(await ids(log, { decision: d }), want, `decision ${d}`);
  }
  t.same(await ids(log, { user: 'alice', host: 'api.openai.com', decision: 'approved' }), ['held'], 'filters combine');
  t.same(await ids(log, { user: 'alice', group: 'ci' }), [], 'filters that never meet');

  t.same(await ids(log, { q: 'ROTATION' }), ['long'], 'a word of a masked prompt');
  t.same(await ids(log, { q: 'moon pulls the sea' }), ['held', 'tides'], 'words of a streamed answer, reassembled across chunks (stop words ignored)');
  t.same(await ids(log, { q: 'regenerate' }), ['long'], 'the answer of a second exchange');
  t.same(await ids(log, { q: 'masked openai' }), ['long'], 'placeholders are searchable');
  t.same(await ids(log, { q: 'moon rotation' }), [], 'every word must occur');
  t.same(await ids(log, { q: 'the' }), [], 'a query of stop words matches nothing');
  t.same(await ids(log, { q: 'brief', host: 'api.openai.com' }), ['held', 'tides'], 'search and a filter together');

  // Pages: two at a time, each from the previous page's cursor.
  const seen: string[] = [];
  let before: number | undefined;
  for (let i = 0; i < 5; i++) {
    const page = await log.reader.querySessions({ limit: 2, ...(before !== undefined ? { before } : {}) });
    seen.push(...page.sessions.map((s) => s.summary.session));
    if (page.next === null) break;
    before = page.next;
  }
  t.same(seen, NEWEST_FIRST, 'cursor pages cover every session once, in order');
  const dev = await log.reader.querySessions({ limit: 2, group: 'dev' });
  const rest = await log.reader.querySessions({ limit: 10, group: 'dev', before: dev.next! });
  t.same([...dev.sessions, ...rest.sessions].map((s) => s.summary.session), ['held', 'broken', 'long', 'tunnel', 'tides'], 'cursor pages of a filter');
  t.equal(rest.next, null, 'the last page says so');

  const all = (await log.reader.querySessions({ limit: 50 })).sessions;
  const tidesTs = all.find((s) => s.summary.session === 'tides')!.summary.firstTs;
  const heldTs = all.find((s) => s.summary.session === 'held')!.summary.firstTs;
  t.same(await ids(log, { until: tidesTs }), ['tides'], 'until: sessions started by then');
  t.same(await ids(log, { since: heldTs }), all.filter((s) => s.summary.firstTs >= heldTs).map((s) => s.summary.session), 'since: sessions started from then');

  // The indexed facts are what the session page derives from all of a session's records.
  for (const s of all) {
    const records = await log.readSession(s.summary.session);
    const whole = sessionFacts(s.summary, records);
    const { session: _s, firstTs: _f, lastTs: _l, ended: _e, ...want } = whole;
    t.same({ ...s.facts, subject: s.facts.subject ?? s.summary.users[0] ?? null }, want, `facts of ${s.summary.session}`);
  }
  const active = await log.reader.activeSessions(heldTs);
  t.equal(active[0]?.summary.session, 'held', 'active since a time: the newest activity first');
  const idle = all.filter((s) => s.summary.lastTs < heldTs).map((s) => s.summary.session);
  t.ok(idle.includes('tides'), 'the first session was quiet by then');
  t.notOk(active.some((s) => idle.includes(s.summary.session)), 'sessions quiet since then are not active');
});

t.test('kill -9 in the middle of an exchange: after replay the indexes equal a clean run', async (t) => {
  const clean = tempDirs(t);
  const ref = await openAuditLog({ dataDir: clean.dataDir, certsDir: clean.certsDir, logger: quiet, origin: 'index.test/log' });
  await writeFixture(ref, 'all');
  await ref.close();
  const want = await indexDump(clean.dataDir);

  const { dataDir, certsDir } = tempDirs(t);
  const p = spawn(process.execPath, ['--import', 'tsx', child, dataDir, certsDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise((r) => p.once('exit', r));
  t.equal(p.signalCode, 'SIGKILL', 'the writer was killed');
  const partial = await indexDump(dataDir);
  t.ok(partial.size < want.size, `before the restart LevelDB lacks what was only in the segments (${partial.size} of ${want.size} index keys)`);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'index.test/log' });
  t.same(await ids(log, { q: 'zebrafish regenerate' }), ['long'], 'an exchange begun before the crash and finished in the replayed segment is searchable');
  t.same(await ids(log, { decision: 'error' }), ['broken']);
  const v = await log.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies with the index keys in it');
  await log.close();
  const got = await indexDump(dataDir);
  t.same([...got.keys()].sort(), [...want.keys()].sort(), 'the same index keys as the clean run');
  t.same(Object.fromEntries(got), Object.fromEntries(want), 'and the same values');
});

/** Files under dir whose bytes contain one of the markers. */
function grep(dir: string, markers: string[]): string[] {
  const found = new Set<string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const bytes = readFileSync(p);
        for (const m of markers) if (bytes.includes(m)) found.add(m);
      }
    }
  };
  walk(dir);
  return [...found];
}

t.test('retention: the words of pruned bodies leave the index and the disk', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  let log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'index.test/log', retentionDays: 1 });
  const oldWords = ['quokkaxylophone', 'narwhalzeppelin'];
  await log.append({ session: 'old', kind: 'request', meta: { n: 1, method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', adapter: 'openai-chat', headers: {} }, body: Buffer.from(JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: `tell me about ${oldWords.join(' and ')}` }] })) });
  await log.append({ session: 'old', kind: 'response-end', meta: { n: 1, status: 200 } });
  await log.endSession('old');
  await log.drained();
  t.same(await ids(log, { q: oldWords[0]! }), ['old'], 'searchable before the prune');
  await new Promise((r) => setTimeout(r, 5));
  const split = Date.now();
  await log.append({ session: 'new', kind: 'request', meta: { n: 1, method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', adapter: 'openai-chat', headers: {} }, body: Buffer.from(JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'tell me about wombatcarousel' }] })) });
  await log.endSession('new');
  await log.drained();
  await log.prune(split + 86_400_000);
  t.same(await ids(log, { q: oldWords[0]! }), [], 'a pruned word finds nothing');
  t.same(await ids(log, { q: 'wombatcarousel' }), ['new'], 'a kept word still finds its session');
  t.same(await ids(log, { host: 'api.openai.com' }), ['new', 'old'], 'facts from record meta stay (the records do)');
  await log.close();
  log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'index.test/log' });
  const v = await log.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies after the prune');
  await log.close();
  const dump = await indexDump(dataDir);
  t.notOk([...dump.keys()].some((k) => oldWords.some((w) => k.includes(w))), 'no index key names a pruned word');
  t.same(grep(dataDir, oldWords), [], 'no pruned word is anywhere in the data folder');
});
