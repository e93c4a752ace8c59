// kill -9 of a process appending from 64 concurrent sessions: after restart the log verifies and
// every append that had resolved before the kill is there.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openAuditLog, readPublicKeys, verifyStore, readExternalCheckpoints } from '../../src/audit/index.js';
import { openDb } from '../../src/audit/store.js';
import { quiet, tempDirs } from './helpers.js';

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

t.test('kill -9 during 64 concurrent sessions, restart, verify', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const p = spawn(process.execPath, ['--import', 'tsx', child, dataDir, certsDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: { seq: number; session: string; i: number }[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not append in time')), 120_000);
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let n: number;
      while ((n = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, n);
        buf = buf.slice(n + 1);
        if (line === 'ready') continue;
        const [seq, session, i] = line.split(' ');
        acked.push({ seq: Number(seq), session: session!, i: Number(i) });
      }
      if (acked.length >= 4000 && !p.killed) {
        clearTimeout(timer);
        p.kill('SIGKILL');
        resolve();
      }
    });
    p.on('exit', () => resolve());
  });
  await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)));
  t.equal(p.signalCode, 'SIGKILL', 'the writer was killed');
  t.ok(acked.length >= 4000, `${acked.length} appends acknowledged before the kill`);

  // The store as the crash left it verifies (its newest records may not be under a checkpoint yet).
  const trusted = readPublicKeys(certsDir);
  let db = await openDb(dataDir, { create: false });
  const raw = await verifyStore(db, { trusted, external: await readExternalCheckpoints(dataDir) });
  await db.close();
  t.equal(raw.ok, true, `store verifies right after the crash (${raw.problem?.message ?? ''})`);
  t.equal(raw.openSessions, 64, 'the 64 sessions were open');
  t.comment(`after the crash: ${raw.records} records, ${raw.unsignedTail} not yet under a checkpoint`);

  // Restart: the log ends the dangling sessions and signs a checkpoint; everything acknowledged is there.
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'crash.test/log' });
  const maxAcked = Math.max(...acked.map((a) => a.seq));
  t.ok(log.size > maxAcked, `log holds ${log.size} records, last acknowledged seq ${maxAcked}`);
  const bySession = new Map<string, number>();
  for (const a of acked) bySession.set(a.session, Math.max(bySession.get(a.session) ?? -1, a.i));
  let missing = 0;
  for (const [session, lastI] of bySession) {
    const recs = await log.readSession(session);
    const chunks = recs.filter((r) => r.kind === 'chunk');
    if (chunks.length < lastI + 1) missing++;
    t.equal(recs[recs.length - 1]!.kind, 'session-end', `${session} ended at restart`);
    t.same(chunks.map((r) => r.meta.i), [...Array(chunks.length).keys()], `${session} has no gaps`);
  }
  t.equal(missing, 0, 'every acknowledged record survived');
  await log.close();

  db = await openDb(dataDir, { create: false });
  const after = await verifyStore(db, { trusted, external: await readExternalCheckpoints(dataDir) });
  await db.close();
  t.equal(after.ok, true, `verify passes after restart (${after.problem?.message ?? ''})`);
  t.equal(after.openSessions, 0);
  t.equal(after.unsignedTail, 0);
});
