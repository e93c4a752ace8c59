// Child process for the segment tests: appends records while LevelDB ingest is stalled (so they are
// only in segments), then kills itself with SIGKILL. Args: dataDir certsDir records ingestedFirst
import { pino } from 'pino';
import { openAuditLog } from '../../src/audit/index.js';

const [dataDir, certsDir, total, first] = process.argv.slice(2) as [string, string, string, string];
const log = await openAuditLog({ dataDir, certsDir, logger: pino({ level: 'silent' }), origin: 'segment.test/log', checkpointIntervalMs: 3_600_000 });
const body = (k: number, i: number) => Buffer.from(`data: {"k":${k},"i":${i},"pad":"${'x'.repeat(200)}"}\n\n`);
let i = 0;
const append = async (n: number) => {
  for (const end = i + n; i < end; i++) await log.append({ session: `s${i % 4}`, kind: 'chunk', meta: { i }, body: body(i % 4, i) });
};
await append(Number(first));
await log.drained(); // these are in LevelDB (and still in the segment: no checkpoint yet)
const store = log.store as unknown as { batch: () => Promise<void> };
store.batch = () => new Promise(() => undefined); // LevelDB never answers again
await append(Number(total) - Number(first));
process.stdout.write(`${log.size}\n`);
process.kill(process.pid, 'SIGKILL');
