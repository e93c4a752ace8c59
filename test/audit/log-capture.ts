// A pino logger that keeps its lines, for tests that check what the log said.
import { Writable } from 'node:stream';
import { pino } from 'pino';

export function capturingLogger() {
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
