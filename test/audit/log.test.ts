import t from 'tap';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openAuditLog, StoreUnavailableError } from '../../src/audit/index.js';
import { quiet, tempDirs } from './helpers.js';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

t.test('append, read back a session with bodies, end it, reopen', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'test.local/log' });
  t.equal(log.writable, true);
  const results = await Promise.all([
    log.append({ session: 's1', kind: 'connect', meta: { target: 'api.openai.com:443', identity: { kind: 'oidc', subject: 'u1', email: 'a@x.test', groups: [], attributes: {} } } }),
    log.append({ session: 's2', kind: 'connect', meta: { target: 'api.anthropic.com:443' } }),
    log.append({ session: 's1', kind: 'request', meta: { method: 'POST' }, body: Buffer.from('{"q":1}') }),
    log.append({ session: 's1', kind: 'chunk', meta: { at: 1700000000000 }, body: new Uint8Array([1, 2, 3]) }),
  ]);
  t.same(results.map((r) => r.seq), [0, 1, 2, 3], 'seq follows append order');
  const end = await log.endSession('s1', { reason: 'client closed' });
  t.equal(end.seq, 4);

  const recs = await log.reader.sessionRecords('s1');
  t.same(recs.map((r) => r.kind), ['connect', 'request', 'chunk', 'session-end']);
  t.same(recs.map((r) => r.sessionSeq), [0, 1, 2, 3]);
  t.equal(recs[0]!.sessionPrev, null);
  for (let i = 1; i < recs.length; i++) t.equal(recs[i]!.sessionPrev, recs[i - 1]!.hash, `record ${i} chains to its predecessor`);
  t.equal(recs[0]!.hash, results[0]!.hash, 'append returns the record hash');
  t.same(recs[1]!.body, Buffer.from('{"q":1}'));
  t.equal(recs[1]!.bodyHash, sha('{"q":1}'));
  t.same(recs[2]!.body, Buffer.from([1, 2, 3]));
  t.equal(recs[0]!.body, null);
  t.same(recs[3]!.meta, { reason: 'client closed', count: 3, lastHash: recs[2]!.hash });
  t.equal(recs[0]!.origin, 'test.local/log');
  t.same((recs[0]!.meta.identity as { subject: string }).subject, 'u1');

  const sessions = await log.reader.listSessions();
  t.same(sessions.map((s) => [s.session, s.count, s.ended]), [['s1', 4, true], ['s2', 1, false]]);
  t.same(sessions[0]!.users, ['a@x.test', 'u1']);
  t.same(await log.reader.sessionRecords('nope'), []);

  await t.rejects(log.append({ session: 's1', kind: 'chunk', meta: {} }), /has ended/);
  await t.rejects(log.append({ session: 's3', kind: 'chunk', meta: { x: 1.5 } }), TypeError);
  await t.rejects(log.append({ session: '', kind: 'chunk', meta: {} }), TypeError);
  await t.rejects(log.append({ session: 's3', kind: 'bogus' as 'chunk', meta: {} }), TypeError);
  await t.rejects(log.append({ session: 's\ud800', kind: 'chunk', meta: {} }), /lone UTF-16 surrogate/);
  await log.close();
  t.equal(log.writable, false);
  await t.rejects(log.append({ session: 's2', kind: 'chunk', meta: {} }), StoreUnavailableError);

  const key = join(certsDir, 'audit-log.key');
  t.equal(statSync(key).mode & 0o777, 0o600, 'signing key is 0600');
  t.match(readFileSync(join(certsDir, 'audit-log.pub'), 'utf8'), /^test\.local\/log\+[0-9a-f]{8}\+/);
  t.match(readFileSync(join(dataDir, 'checkpoints', 'latest'), 'utf8'), /^test\.local\/log\n5\n/);

  // Reopen: s2 was left open, so the log ends it; ended s1 cannot be reused.
  const again = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'test.local/log' });
  const s2 = await again.reader.sessionRecords('s2');
  t.same(s2.map((r) => r.kind), ['connect', 'session-end']);
  t.equal(s2[1]!.meta.reason, 'recovered-after-restart');
  await t.rejects(again.append({ session: 's1', kind: 'chunk', meta: {} }), /already exists/);
  const r = await again.append({ session: 's9', kind: 'connect', meta: {} });
  t.equal(r.seq, 6, 'sequence continues after reopen');
  t.equal(again.latestCheckpoint()!.size, 6, 'reopen signed a checkpoint over the recovery records');
  await again.close();
});

t.test('many concurrent sessions keep per-session order', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet });
  const jobs: Promise<unknown>[] = [];
  for (let s = 0; s < 16; s++) {
    jobs.push(
      (async () => {
        for (let i = 0; i < 50; i++) await log.append({ session: `c${s}`, kind: 'chunk', meta: { i } });
        await log.endSession(`c${s}`);
      })(),
    );
  }
  await Promise.all(jobs);
  for (const s of [0, 7, 15]) {
    const recs = await log.reader.sessionRecords(`c${s}`);
    t.equal(recs.length, 51);
    t.same(recs.slice(0, 50).map((r) => r.meta.i), [...Array(50).keys()]);
  }
  t.equal(log.size, 16 * 51);
  await log.close();
});

t.test('checkpoints are published once the write-ahead log is synced; the sync needs a log file', async (t) => {
  const { syncWriteAheadLog } = await import('../../src/audit/store.js');
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'test.local/log' });
  await log.append({ session: 'd', kind: 'connect', meta: {} });
  await log.append({ session: 'd', kind: 'chunk', meta: {} });
  const cp = await log.checkpointNow();
  t.equal(cp!.size, 2);
  t.match(readFileSync(join(dataDir, 'checkpoints', 'latest'), 'utf8'), /^test\.local\/log\n2\n/, 'checkpointNow resolves after the durable checkpoint is published');
  await t.resolves(syncWriteAheadLog(dataDir));
  await log.close();
  const { mkdtempSync, mkdirSync } = await import('node:fs');
  const empty = mkdtempSync(join(tempDirs(t).root, 'x'));
  mkdirSync(join(empty, 'log'));
  await t.rejects(syncWriteAheadLog(empty), /no write-ahead log/);
});
