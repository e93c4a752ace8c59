// Live view: new and changed sessions pushed to open list pages as server-sent events. One poller
// serves every listener and runs only while someone listens; listeners are bounded.
import type { ServerResponse } from 'node:http';
import type { SessionCatalog } from '../../transcript/index.js';
import { sessionRow } from './pages.js';

const MAX_LISTENERS = 32;
/** Sessions remembered as already pushed; past it the memory is dropped (a row may be re-sent, harmlessly). */
const MAX_SEEN = 10_000;

export class LiveSessions {
  private readonly listeners = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private since = Date.now();
  private readonly seen = new Map<string, number>(); // session -> lastSeq already pushed

  constructor(private readonly catalog: SessionCatalog, private readonly intervalMs = 1000) {}

  /** Starts streaming to `res`; false when too many pages are already listening. */
  add(res: ServerResponse): boolean {
    if (this.listeners.size >= MAX_LISTENERS) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(': live\n\n');
    this.listeners.add(res);
    res.on('close', () => {
      this.listeners.delete(res);
      if (!this.listeners.size) this.stop();
    });
    if (!this.timer) {
      this.since = Date.now() - 2 * this.intervalMs;
      this.timer = setInterval(() => void this.tick().catch(() => undefined), this.intervalMs);
      this.timer.unref();
    }
    return true;
  }

  close(): void {
    for (const res of this.listeners) res.end();
    this.listeners.clear();
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.seen.clear();
  }

  /** Pushes every session that started or changed since the listeners connected. */
  private async tick(): Promise<void> {
    const since = this.since;
    this.since = Date.now() - 2 * this.intervalMs; // the next tick's window overlaps this one
    const rows = (await this.catalog.active(since)).slice(0, 50);
    for (const f of rows.reverse()) {
      const version = f.lastTs * 1000 + f.requests;
      if (this.seen.get(f.session) === version) continue;
      if (this.seen.size >= MAX_SEEN) this.seen.clear();
      this.seen.set(f.session, version);
      const data = JSON.stringify({ session: f.session, row: sessionRow(f).value });
      for (const res of this.listeners) res.write(`event: session\ndata: ${data}\n\n`);
    }
  }
}
