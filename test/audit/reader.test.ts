// The AuditReader contract, checked the same way against its three implementations: the running log
// (with records still only in a segment), the admin API over it, and the closed data folder.
import t, { type Test } from 'tap';
import { openAuditLog, openLocalReader, remoteReader, auditAdminRoutes, verifyBundleStream, type AuditReader, type AuditLog, type StoredRecord } from '../../src/audit/index.js';
import { quiet, tempDirs } from './helpers.js';
import { adminServer } from './cli-helpers.js';

const alice = { kind: 'oidc', subject: 'sub-alice', email: 'alice@example.test', groups: [], attributes: {} };
const bob = { kind: 'token', subject: 'token:bob', groups: [], attributes: {} };

/** Six sessions, two of them alice's, interleaved so the log is not session-ordered. */
async function build(log: AuditLog): Promise<void> {
  const ids = ['s0', 's1', 's2', 's3', 's4', 's5'];
  for (const id of ids) await log.append({ session: id, kind: 'connect', meta: { identity: (id === 's1' || id === 's4' ? alice : bob) as never } });
  for (let i = 0; i < 5; i++) for (const id of ids) log.appendSync({ session: id, kind: 'chunk', meta: { i }, body: Buffer.from(`${id} chunk ${i}`) });
  for (const id of ids.slice(0, 4)) await log.endSession(id);
}

async function collect<T>(g: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

/** Every promise of the contract, against any implementation; `expect` is what the log holds. */
async function checkContract(t: Test, reader: AuditReader, expect: { sessions: string[]; records: number }) {
  const all = await reader.listSessions();
  t.same(
    all.map((s) => s.session),
    expect.sessions,
    'listSessions: every session, oldest first',
  );
  t.same(
    (await reader.listSessions({}, { order: 'newest' })).map((s) => s.session),
    [...expect.sessions].reverse(),
    'newest first',
  );
  t.same(
    (await reader.listSessions({ user: 'alice@example.test' })).map((s) => s.session),
    ['s1', 's4'],
    'filtered by user',
  );
  // Paging with a cursor visits every session exactly once, in both orders.
  for (const order of ['oldest', 'newest'] as const) {
    const seen: string[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await reader.listSessions({}, { order, limit: 4, ...(cursor !== undefined ? { cursor } : {}) });
      seen.push(...page.map((s) => s.session));
      if (page.length < 4) break;
      cursor = page[page.length - 1]!.firstSeq;
    }
    t.same(seen, order === 'oldest' ? expect.sessions : [...expect.sessions].reverse(), `pages of 4 (${order}) cover every session once`);
  }

  const recs = await reader.sessionRecords('s4');
  t.equal(recs.length, 6, 'sessionRecords: connect + 5 chunks');
  t.same(
    recs.map((r) => r.sessionSeq),
    [0, 1, 2, 3, 4, 5],
  );
  t.equal(recs[3]!.body?.toString(), 's4 chunk 2', 'with bodies');
  const summary = await reader.sessionSummary('s4');
  t.equal(summary?.count, 6);
  t.equal(summary?.lastSeq, recs[5]!.seq, 'summary and records agree');
  const shown = await reader.showSession('s4');
  t.same(
    shown?.records.map((r) => r.hash),
    recs.map((r) => r.hash),
  );
  t.equal(await reader.sessionSummary('nope'), null, 'unknown session: null summary');
  t.same(await reader.sessionRecords('nope'), [], 'no records');
  t.equal(await reader.showSession('nope'), null);

  const range = await collect(reader.records(recs[1]!.seq, recs[1]!.seq + 7));
  t.same(
    range.map((r) => r.seq),
    [...Array(7).keys()].map((i) => recs[1]!.seq + i),
    'records(from, to): that range in seq order',
  );
  const byHash = new Map((await reader.sessionRecords('s4')).map((r: StoredRecord) => [r.seq, r.hash]));
  for (const r of range) if (byHash.has(r.seq)) t.equal(r.hash, byHash.get(r.seq), `seq ${r.seq} reads the same either way`);
  const everything = await collect(reader.records(0, Number.MAX_SAFE_INTEGER));
  t.equal(everything.length, expect.records, 'the whole log');
  t.ok(
    everything.every((r, i) => r.seq === i),
    'without gaps',
  );

  const latest = await reader.latestCheckpoint();
  t.ok(latest, 'a signed checkpoint');
  const cps = await reader.checkpoints(3);
  t.ok(cps.length >= 1 && cps.length <= 3, 'checkpoints(limit) honours the limit');
  t.equal(cps[0], latest, 'newest first');
  const keys = await reader.publicKeys();
  t.ok(keys.length >= 1, 'public keys');

  const report = await reader.verify();
  t.equal(report.ok, true, report.problem?.message ?? 'verifies');
  t.equal(report.records, expect.records);
  const stats = { records: 0, sessions: 0, uncovered: 0 };
  const b = await verifyBundleStream(reader.exportBundle({ user: 'sub-alice' }, stats), keys);
  t.equal(b.ok, true, b.problem?.message ?? 'the export verifies');
  t.equal(b.records, 13, "alice's two sessions (s1 ended: 7 records, s4: 6)");
  t.equal(stats.records, 13, 'stats say so too');
}

t.test('one contract: live (with a segment-only tail), remote, local', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'reader.test/log' });
  await build(log);
  await log.checkpointNow();
  // Hold LevelDB back: the next records exist only in the segment and the ingester's tail.
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const store = log.store as unknown as { batch: (...a: unknown[]) => Promise<void> };
  const batch = store.batch.bind(store);
  store.batch = (...a: unknown[]) => gate.then(() => batch(...a));
  log.appendSync({ session: 's6', kind: 'connect', meta: { identity: bob as never } });
  for (let i = 0; i < 5; i++) log.appendSync({ session: 's6', kind: 'chunk', meta: { i }, body: Buffer.from(`s6 chunk ${i}`) });
  log.appendSync({ session: 's5', kind: 'chunk', meta: { i: 5 }, body: Buffer.from('s5 chunk 5') });
  const sessions = ['s0', 's1', 's2', 's3', 's4', 's5', 's6'];
  const records = 6 * 6 + 4 + 6 + 1;

  const live = log.reader;
  t.equal(live.kind, 'live');
  const tailOnly = await live.listSessions({}, { order: 'newest', limit: 1 });
  t.equal(tailOnly[0]?.session, 's6', 'a session still only in a segment is the newest');
  t.equal((await live.sessionSummary('s5'))?.count, 7, "a stored session's summary counts its tail records");
  t.equal((await collect(live.records(0, Number.MAX_SAFE_INTEGER))).length, records, 'records() includes the tail');
  open();
  await t.test('live', (t) => checkContract(t, live, { sessions, records }));

  const token = 'reader-test-token';
  const admin = await adminServer(auditAdminRoutes(log), token);
  await t.test('remote', (t) => checkContract(t, remoteReader(admin.url, token), { sessions, records }));
  await admin.close();
  await log.close();

  // Closed: a final checkpoint covers everything; the open sessions stay open until the next start.
  const local = await openLocalReader({ dataDir, certsDir });
  t.teardown(() => local.close());
  await t.test('local', (t) => checkContract(t, local, { sessions, records }));
});
