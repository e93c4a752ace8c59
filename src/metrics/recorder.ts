// Times audit appends from the outside of the recorder interface (call → durable commit), so the audit
// writer needs no metrics code for this one.
import type { Recorder } from '../audit/types.js';
import { report } from './events.js';

export function timedRecorder(inner: Recorder): Recorder {
  return {
    append(input) {
      const start = process.hrtime.bigint();
      const p = inner.append(input);
      void p.then(
        () => report.auditAppend(Number(process.hrtime.bigint() - start) / 1e9),
        () => undefined,
      );
      return p;
    },
    appendSync(input) {
      const start = process.hrtime.bigint();
      const r = inner.appendSync(input);
      report.auditAppend(Number(process.hrtime.bigint() - start) / 1e9);
      return r;
    },
    endSession: (session, meta) => inner.endSession(session, meta),
    get writable() {
      return inner.writable;
    },
    close: () => inner.close(),
  };
}
