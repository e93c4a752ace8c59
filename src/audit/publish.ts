// Copies each new checkpoint outside the store: <dataDir>/checkpoints/latest (rollback detection on
// this host) and an optional witness (a file, ideally on another machine's mount, or an HTTP POST URL).
// Publication is asynchronous, serialized and coalescing: only the newest pending checkpoint is sent.
import { mkdir, open, rename, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';

export const LATEST_CHECKPOINT = join('checkpoints', 'latest');

export interface WitnessTarget {
  file?: string;
  url?: string;
}

async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export async function readCheckpointFile(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export class CheckpointPublisher {
  private pending: { note: string; size: number } | null = null;
  private running: Promise<void> | null = null;
  private publishedSize = -1;
  private failing = new Set<string>();

  constructor(
    private readonly dataDir: string,
    private readonly witness: WitnessTarget | undefined,
    private readonly logger: Logger,
  ) {}

  publish(note: string, size: number): void {
    if (size < this.publishedSize) return;
    this.pending = { note, size };
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  /** Resolves once everything handed to publish() so far has been attempted. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const { note, size } = this.pending;
      this.pending = null;
      await this.attempt('latest checkpoint file', () => writeFileAtomic(join(this.dataDir, LATEST_CHECKPOINT), note));
      if (this.witness?.file) await this.attempt('witness file', () => writeFileAtomic(this.witness!.file!, note));
      if (this.witness?.url) await this.attempt('witness URL', () => postNote(this.witness!.url!, note));
      this.publishedSize = size;
    }
  }

  private async attempt(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      if (this.failing.delete(what)) this.logger.info({ target: what }, 'audit: checkpoint publication recovered');
    } catch (err) {
      // Log once per failure streak; the next checkpoint retries.
      if (!this.failing.has(what)) {
        this.failing.add(what);
        this.logger.error({ target: what, err: (err as Error).message }, 'audit: cannot publish checkpoint');
      }
    }
  }
}

async function postNote(url: string, note: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: note,
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`witness answered ${res.status}`);
}
