// Fail closed when the store cannot write, and recover once it can.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { openAuditLog, StoreUnavailableError, type AuditLog } from '../../src/audit/index.js';
import { quiet, tempDirs } from './helpers.js';

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function capturingLogger() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(c: Buffer, _e, cb) {
        lines.push(c.toString());
        cb();
      },
    }),
  );
  return { logger, lines };
}

t.test('injected write error: fail closed, then recover', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const { logger, lines } = capturingLogger();
  const log = await openAuditLog({ dataDir, certsDir, logger });
  await log.append({ session: 'a', kind: 'connect', meta: {} });
  // The store handle fails its next write like an I/O error would; the log reopens a fresh handle to recover.
  const store = log.store as unknown as { batch: (...a: unknown[]) => Promise<void> };
  store.batch = async () => {
    throw Object.assign(new Error('IO error: simulated'), { code: 'LEVEL_IO_ERROR' });
  };
  const failed = await Promise.allSettled([log.append({ session: 'a', kind: 'chunk', meta: { n: 1 } }), log.append({ session: 'b', kind: 'connect', meta: {} })]);
  t.same(failed.map((f) => f.status), ['rejected', 'rejected']);
  t.ok(failed.every((f) => f.status === 'rejected' && f.reason instanceof StoreUnavailableError), 'rejected with StoreUnavailableError');
  t.equal(log.writable, false, 'not writable');
  t.ok(lines.some((l) => /AUDIT LOG CANNOT WRITE/.test(l) && /"level":60/.test(l)), 'a fatal log line says so');
  await until(() => log.writable);
  t.ok(lines.some((l) => /recording resumed/.test(l)), 'recovery is logged');
  const r = await log.append({ session: 'a', kind: 'chunk', meta: { n: 2 } });
  t.equal(r.seq, 1, 'the failed records never entered the log');
  const recs = await log.readSession('a');
  t.same(recs.map((x) => x.meta.n ?? null), [null, 2]);
  t.equal(recs[1]!.sessionPrev, recs[0]!.hash, 'the chain continues from the last committed record');
  const v = await log.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
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
  const recs = await log.readSession('s');
  t.same(recs.slice(0, ok).map((x) => x.meta.i), [...Array(ok).keys()], 'every acknowledged record is there');
  const v = await log.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  await log.close();
});
