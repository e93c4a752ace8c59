// Fail closed when the store cannot write, and recover once it can.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog, StoreUnavailableError, type AuditLog } from '../../src/audit/index.js';
import { tempDirs } from './helpers.js';
import { capturingLogger } from './log-capture.js';

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('injected segment write error: fail closed, then recover and sign a checkpoint at once', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const { logger, lines } = capturingLogger();
  // A long checkpoint interval: the checkpoint after recovery must not wait for the timer.
  const log = await openAuditLog({ dataDir, certsDir, logger, checkpointIntervalMs: 3_600_000, checkpointEveryRecords: 1_000_000 });
  await log.append({ session: 'a', kind: 'connect', meta: {} });
  // The segment's descriptor goes bad under the writer, like an I/O error would.
  closeSync((log as unknown as { writer: { segmentDescriptor: number } }).writer.segmentDescriptor);
  const failed = await Promise.allSettled([log.append({ session: 'a', kind: 'chunk', meta: { n: 1 } }), log.append({ session: 'b', kind: 'connect', meta: {} })]);
  t.same(failed.map((f) => f.status), ['rejected', 'rejected']);
  t.ok(failed.every((f) => f.status === 'rejected' && f.reason instanceof StoreUnavailableError), 'rejected with StoreUnavailableError');
  t.throws(() => log.appendSync({ session: 'a', kind: 'chunk', meta: { n: 1 } }), StoreUnavailableError, 'a synchronous append throws');
  t.equal(log.writable, false, 'not writable');
  t.ok(lines.some((l) => /AUDIT LOG CANNOT WRITE/.test(l) && /"level":60/.test(l)), 'a fatal log line says so');
  await until(() => log.writable);
  t.ok(lines.some((l) => /recording resumed/.test(l)), 'recovery is logged');
  await until(() => log.latestCheckpoint()?.size === 1);
  t.pass('a checkpoint over the records written before the failure is signed right after recovery');
  const r = log.appendSync({ session: 'a', kind: 'chunk', meta: { n: 2 } });
  t.equal(r.seq, 1, 'the failed records never entered the log');
  const recs = await log.reader.sessionRecords('a');
  t.same(recs.map((x) => x.meta.n ?? null), [null, 2]);
  t.equal(recs[1]!.sessionPrev, recs[0]!.hash, 'the chain continues from the last recorded record');
  const v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  await log.close();
});

t.test('LevelDB write error: records stay in the segment, readers see them, ingest recovers', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const { logger, lines } = capturingLogger();
  const log = await openAuditLog({ dataDir, certsDir, logger });
  await log.append({ session: 'a', kind: 'connect', meta: {} });
  await log.drained();
  // The store handle fails its next write like an I/O error would; the ingester reopens a fresh handle.
  const store = log.store as unknown as { batch: (...a: unknown[]) => Promise<void> };
  store.batch = async () => {
    throw Object.assign(new Error('IO error: simulated'), { code: 'LEVEL_IO_ERROR' });
  };
  const r = await log.append({ session: 'a', kind: 'chunk', meta: { n: 1 }, body: Buffer.from('held in the segment') });
  t.equal(r.seq, 1, 'the append is recorded (in the segment) although LevelDB fails');
  const seen = await log.reader.sessionRecords('a');
  t.same(seen.map((x) => x.seq), [0, 1], 'readers see the record that is only in the segment');
  t.equal(seen[1]!.body?.toString(), 'held in the segment');
  await until(() => lines.some((l) => /ingest resumed/.test(l)));
  await log.drained();
  t.ok(lines.some((l) => /the store cannot write/.test(l)), 'the ingest failure is logged');
  const v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  t.equal(v.records, 2);
  await log.close();
});

function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

t.test('disk full on a small tmpfs: fail closed, then recover when space returns', async (t) => {
  const { root, certsDir } = tempDirs(t);
  const mnt = join(root, 'mnt');
  mkdirSync(mnt);
  if (!tryMount(mnt, '2m')) {
    // Without mount privileges the injected-error test above covers the same path.
    t.fail('cannot mount a tmpfs (needs root); the disk-full test requires it');
    return;
  }
  t.teardown(() => execFileSync('umount', ['-l', mnt]));
  const dataDir = join(mnt, 'data');
  const { logger, lines } = capturingLogger();
  const log: AuditLog = await openAuditLog({ dataDir, certsDir, logger });
  const body = Buffer.alloc(8 * 1024, 'x');
  let ok = 0;
  let err: unknown = null;
  for (let i = 0; i < 2000 && !err; i++) {
    try {
      await log.append({ session: 's', kind: 'chunk', meta: { i }, body });
      ok++;
    } catch (e) {
      err = e;
    }
  }
  t.ok(err instanceof StoreUnavailableError, `append rejected with StoreUnavailableError after ${ok} records: ${(err as Error)?.message}`);
  t.match((err as Error).message, /No space left|ENOSPC|IO error/i);
  t.equal(log.writable, false);
  await t.rejects(log.append({ session: 's', kind: 'chunk', meta: {} }), StoreUnavailableError, 'later appends are refused too');
  t.ok(lines.some((l) => /AUDIT LOG CANNOT WRITE/.test(l)));
  await new Promise((r) => setTimeout(r, 600));
  t.equal(log.writable, false, 'still failing while the disk is full');

  execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
  await until(() => log.writable);
  const r = await log.append({ session: 's', kind: 'chunk', meta: { i: 'after' }, body });
  t.ok(r.seq >= ok, 'appends work again');
  const recs = await log.reader.sessionRecords('s');
  t.same(recs.slice(0, ok).map((x) => x.meta.i), [...Array(ok).keys()], 'every acknowledged record is there');
  const v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  await log.close();
});
