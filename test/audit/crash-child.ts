// Child process for the kill -9 test: 64 sessions append concurrently until the process is killed.
// Prints "seq session i" for every append that resolved (= committed).
import { pino } from 'pino';
import { openAuditLog } from '../../src/audit/index.js';

const [dataDir, certsDir] = process.argv.slice(2) as [string, string];
const log = await openAuditLog({ dataDir, certsDir, logger: pino({ level: 'silent' }), origin: 'crash.test/log' });
process.stdout.write('ready\n');
let acked: string[] = [];
setInterval(() => {
  if (acked.length) process.stdout.write(acked.join(''));
  acked = [];
}, 5);
await Promise.all(
  Array.from({ length: 64 }, async (_, k) => {
    for (let i = 0; ; i++) {
      const r = await log.append({ session: `s${k}`, kind: 'chunk', meta: { i, at: Date.now() }, body: Buffer.from(`data: chunk ${k}/${i}\n\n`) });
      acked.push(`${r.seq} s${k} ${i}\n`);
    }
  }),
);
