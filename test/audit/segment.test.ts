// Segments: replay after a crash (idempotent by seq), a torn tail cut with a warning, a corrupt
// middle refused naming the file and offset.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openAuditLog, openLocalReader } from '../../src/audit/index.js';
import { listSegments, SegmentCorruptError } from '../../src/audit/segment.js';
import { tempDirs } from './helpers.js';
import { capturingLogger } from './log-capture.js';

const child = fileURLToPath(new URL('./segment-child.ts', import.meta.url));

/** Runs the child: `total` records appended, the first `first` of them also ingested; returns the log size it reached. */
async function crashWithSegments(dataDir: string, certsDir: string, total: number, first: number): Promise<number> {
  const p = spawn(process.execPath, ['--import', 'tsx', child, dataDir, certsDir, String(total), String(first)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<string | null>((r) => p.once('exit', (_c, s) => r(s)));
  if (signal !== 'SIGKILL') throw new Error(`child ended with ${signal}: ${out}`);
  return Number(out.trim());
}

t.test('records only in segments are replayed on start, idempotently by seq', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const size = await crashWithSegments(dataDir, certsDir, 200, 50);
  t.equal(size, 200);
  const { logger, lines } = capturingLogger();
  const log = await openAuditLog({ dataDir, certsDir, logger, origin: 'segment.test/log' });
  t.ok(lines.some((l) => /replayed records that were only in segments/.test(l) && /"records":150/.test(l)), 'the 150 records LevelDB lacked were replayed, the 50 it held were skipped');
  t.equal(log.size, 204, '200 records and 4 session ends (recovered-after-restart)');
  for (let k = 0; k < 4; k++) {
    const recs = await log.reader.sessionRecords(`s${k}`);
    t.same(recs.filter((r) => r.kind === 'chunk').map((r) => r.meta.i), Array.from({ length: 50 }, (_, j) => j * 4 + k), `s${k} complete, in order`);
  }
  const v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  t.equal(v.unsignedTail, 0, 'a checkpoint covers the replayed records');
  await log.close();
  t.same(listSegments(dataDir), [], 'segments are gone once a durable checkpoint covers them');
});

t.test('a torn tail is cut with a warning naming the file and offset', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  await crashWithSegments(dataDir, certsDir, 100, 0);
  const seg = listSegments(dataDir).at(-1)!;
  const full = statSync(seg.path).size;
  truncateSync(seg.path, full - 37); // mid-way through the last frame
  const { logger, lines } = capturingLogger();
  const log = await openAuditLog({ dataDir, certsDir, logger, origin: 'segment.test/log' });
  const warn = lines.find((l) => /torn record/.test(l));
  t.ok(warn, 'a warning says the tail was cut');
  t.match(warn!, /"level":40/);
  t.match(warn!, new RegExp(`"file":"${seg.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`), 'it names the file');
  t.match(warn!, /"offset":\d+/, 'and the offset');
  t.equal(log.size, 99 + 4, 'the torn record is gone, the 99 before it are there (plus 4 session ends)');
  const v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  await log.close();
});

t.test('a flipped byte in the middle refuses to start, naming the file and offset', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  await crashWithSegments(dataDir, certsDir, 100, 0);
  const seg = listSegments(dataDir).at(-1)!;
  const bytes = readFileSync(seg.path);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x20;
  writeFileSync(seg.path, bytes);
  const { logger } = capturingLogger();
  const err = await openAuditLog({ dataDir, certsDir, logger, origin: 'segment.test/log' }).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof SegmentCorruptError, `refused: ${(err as Error)?.message}`);
  const e = err as SegmentCorruptError;
  t.equal(e.file, seg.path, 'names the file');
  t.ok(e.offset > 0 && e.offset <= at, `names the offset of the bad frame (${e.offset}, flipped byte at ${at})`);
  t.match(e.message, new RegExp(`offset ${e.offset}`));
  t.same(readFileSync(seg.path), bytes, 'the segment is left as it was');
  // And the store does not pretend: a second attempt refuses the same way.
  await t.rejects(openAuditLog({ dataDir, certsDir, logger, origin: 'segment.test/log' }), SegmentCorruptError);
});

t.test('the CLI reader of a stopped proxy sees records still only in segments', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  await crashWithSegments(dataDir, certsDir, 120, 20);
  const reader = await openLocalReader({ dataDir, certsDir });
  const shown = await reader.showSession('s1');
  t.same(shown!.records.map((r) => r.meta.i), Array.from({ length: 30 }, (_, j) => j * 4 + 1), 'every record of s1, including the 25 only in segments');
  const v = await reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  t.equal(v.records, 120);
  await reader.close();
  t.ok(listSegments(dataDir).length > 0, 'the reader leaves the segments (the proxy deletes them under a checkpoint)');
});
