// Start-up: records still only in segments (the process stopped before the ingester took them) are
// replayed into LevelDB, idempotently by seq; a torn tail of the newest segment is cut with a warning;
// a corrupt frame anywhere else refuses the start naming the file and offset.
import type { Logger } from 'pino';
import { Ingester, type IngestItem, type IngestOptions } from './ingest.js';
import { listSegments, removeSegment, scanSegment, SegmentCorruptError } from './segment.js';
import type { Db } from './store.js';

export interface ReplayResult {
  /** Segments that still hold records (deleted by the writer once a durable checkpoint covers them). */
  segments: { path: string; lastSeq: number }[];
  /** Records that were only in segments and are now in LevelDB. */
  replayed: number;
}

const REPLAY_BATCH = 4096;

/** Replays every segment record LevelDB lacks. `cut`: truncate a torn tail (false for readers). */
export async function replaySegments(ing: Ingester, dataDir: string, log: Logger, opts: { cut: boolean }): Promise<ReplayResult> {
  const segs = listSegments(dataDir);
  const kept: ReplayResult['segments'] = [];
  let replayed = 0;
  let batch: IngestItem[] = [];
  const commit = async () => {
    if (!batch.length) return;
    await ing.commit(batch);
    replayed += batch.length;
    batch = [];
  };
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    let lastSeq = seg.firstSeq - 1;
    const frames = scanSegment(seg, {
      last: i === segs.length - 1,
      readOnly: !opts.cut,
      onTorn: ({ file, offset, cut }) => log.warn({ file, offset, bytes: cut }, 'audit: segment ended in a torn record (an interrupted write); cut it off'),
    });
    for await (const f of frames) {
      lastSeq = f.seq;
      const next = ing.size + batch.length;
      if (f.seq < next) continue; // already in LevelDB
      if (f.seq > next) throw new Error(`audit segment ${seg.path} starts at record ${f.seq}, but records ${next}..${f.seq - 1} are in neither the store nor a segment; refusing to start`);
      batch.push(Ingester.itemOf(f));
      if (batch.length >= REPLAY_BATCH) await commit();
    }
    await commit();
    if (lastSeq >= seg.firstSeq) kept.push({ path: seg.path, lastSeq });
    else if (opts.cut) removeSegment(seg.path);
  }
  if (replayed) log.warn({ records: replayed, segments: kept.length }, 'audit: replayed records that were only in segments');
  return { segments: kept, replayed };
}

/** For readers of a stopped proxy's data folder: bring segment records into the store (no signing, no cutting). */
export async function ingestPendingSegments(db: Db, dataDir: string, log: Logger): Promise<void> {
  if (!listSegments(dataDir).length) return;
  const opts: IngestOptions = { dataDir, origin: '', signer: () => null, intervalMs: 1000, everyRecords: 1000, sync: false, maxBatchRecords: REPLAY_BATCH, maxBatchBytes: 16 << 20, publisher: null, log };
  const ing = await Ingester.open(db, opts);
  await replaySegments(ing, dataDir, log, { cut: false });
}
