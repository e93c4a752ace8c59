// kill -9 of a process appending from 64 concurrent sessions: after restart the segments are replayed,
// the log verifies and every append that had resolved before the kill is there.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openAuditLog, readPublicKeys, verifyStore, readExternalCheckpoints } from '../../src/audit/index.js';
import { openDb } from '../../src/audit/store.js';
import { listSegments, scanSegment } from '../../src/audit/segment.js';
import { tempDirs } from './helpers.js';
import { capturingLogger } from './log-capture.js';

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
  t.equal(raw.ok, true, `LevelDB as the crash left it verifies on its own (${raw.problem?.message ?? ''})`);
  t.ok(raw.openSessions <= 64);
  t.comment(`after the crash: ${raw.records} records in LevelDB, ${raw.unsignedTail} not yet under a checkpoint`);
  const maxAcked = Math.max(...acked.map((a) => a.seq));
  // Every acknowledged append is in LevelDB or in a segment (read without changing anything).
  const inSegments = new Set<number>();
  const segs = listSegments(dataDir);
  for (const [i, seg] of segs.entries()) for await (const f of scanSegment(seg, { last: i === segs.length - 1, readOnly: true })) inSegments.add(f.seq);
  const lost = acked.filter((a) => a.seq >= raw.records && !inSegments.has(a.seq));
  t.equal(lost.length, 0, `every acknowledged append is in LevelDB (${raw.records}) or a segment (${inSegments.size} records)`);

  // Restart: segments are replayed, the log ends the dangling sessions and signs a checkpoint; everything acknowledged is there.
  const { logger, lines } = capturingLogger();
  const log = await openAuditLog({ dataDir, certsDir, logger, origin: 'crash.test/log' });
  t.ok(log.size > maxAcked, `log holds ${log.size} records, last acknowledged seq ${maxAcked}`);
  if (raw.records <= maxAcked) t.ok(lines.some((l) => /replayed records that were only in segments/.test(l)), 'records only in segments were replayed');
  else t.comment('ingest had caught up with every acknowledged record before the kill');
  const bySession = new Map<string, number>();
  for (const a of acked) bySession.set(a.session, Math.max(bySession.get(a.session) ?? -1, a.i));
  let missing = 0;
  for (const [session, lastI] of bySession) {
    const recs = await log.reader.sessionRecords(session);
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
