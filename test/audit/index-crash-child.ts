// Child for the index crash test: writes phase 1 of the fixture, waits until LevelDB holds it (an
// exchange is then half in the store), writes phase 2 (in the segments only) and kills itself.
import { pino } from 'pino';
import { openAuditLog, type AppendInput } from '../../src/audit/index.js';
import { writeFixture } from './index-fixture.js';

const [dataDir, certsDir] = process.argv.slice(2) as [string, string];
const log = await openAuditLog({ dataDir, certsDir, logger: pino({ level: 'silent' }), origin: 'index.test/log' });
await writeFixture(log, 1);
await log.drained();
await log.checkpointNow();
// Synchronous appends, never yielding to the event loop: the records are in the segment, and the
// ingester (which runs at setImmediate) never gets them into LevelDB before the kill.
const writer = (log as unknown as { writer: { appendSync(i: AppendInput, end?: boolean): unknown } }).writer;
await writeFixture(
  {
    append: async (i) => writer.appendSync(i),
    endSession: async (session) => writer.appendSync({ session, kind: 'session-end', meta: {} }, true),
  },
  2,
);
process.kill(process.pid, 'SIGKILL');
