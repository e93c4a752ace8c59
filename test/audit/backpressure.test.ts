// Ingest that lags (LevelDB slow): memory stays bounded (new work refused, then every append), and
// readers still see every record while it is only in a segment.
import t from 'tap';
import { openAuditLog, StoreUnavailableError } from '../../src/audit/index.js';
import { quiet, tempDirs } from './helpers.js';

t.test('lagging ingest: back-pressure, bounded memory, readers see everything', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const limit = 256 * 1024;
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, maxIngestLagBytes: limit });
  await log.append({ session: 's', kind: 'connect', meta: {} });
  await log.drained();

  // LevelDB stops answering until the gate opens.
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const store = log.store as unknown as { batch: (...a: unknown[]) => Promise<void> };
  const batch = store.batch.bind(store);
  store.batch = (...a: unknown[]) => gate.then(() => batch(...a));

  const body = Buffer.alloc(8 * 1024, 'b');
  let n = 0;
  while (log.writable) {
    log.appendSync({ session: 's', kind: 'chunk', meta: { i: n }, body });
    n++;
    if (n > 1000) break;
  }
  t.equal(log.writable, false, `new work is refused once ${Math.round(log.ingestLagBytes / 1024)} KiB wait for ingest (after ${n} records)`);
  t.equal(log.status, 'backlogged');
  t.ok(log.ingestLagBytes > limit && log.ingestLagBytes < limit + 2 * body.length, 'the soft limit is where it turned');

  // Streams already in flight go on, up to twice the limit; then every append is refused.
  let refused: unknown = null;
  while (!refused && n < 2000) {
    try {
      log.appendSync({ session: 's', kind: 'chunk', meta: { i: n }, body });
      n++;
    } catch (err) {
      refused = err;
    }
  }
  t.ok(refused instanceof StoreUnavailableError, `then appends are refused: ${(refused as Error)?.message}`);
  t.match((refused as Error).message, /ingest is \d+ MiB behind/);
  t.ok(log.ingestLagBytes <= 2 * limit + body.length + 1024, `memory held for ingest stays bounded (${log.ingestLagBytes} bytes)`);

  // Readers see every record although LevelDB holds none of them.
  const recs = await log.reader.sessionRecords('s');
  t.equal(recs.length, n + 1, `readSession sees all ${n + 1} records`);
  t.same(recs.slice(1).map((r) => r.meta.i), [...Array(n).keys()]);
  t.equal(recs[n]!.body?.length, body.length);
  const [summary] = await log.reader.listSessions({});
  t.equal(summary!.count, n + 1, 'the session list counts them too');
  t.equal((await log.reader.sessionSummary('s'))!.lastSeq, n);

  open();
  await log.drained();
  t.equal(log.writable, true, 'accepting again once ingest caught up');
  t.equal(log.ingestLagBytes, 0);
  const v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  t.equal(v.records, n + 1);
  await log.close();
});
