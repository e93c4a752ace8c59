// AuditReader through a running proxy's admin API (the CLI while the proxy holds the LevelDB lock).
// Verification runs inside the proxy, on its keys; the CLI may pin keys on top (verify --key).
import type { IndexedSession, SessionIndexPage } from './index/index.js';
import { adminFetch, AdminError } from '../admin/client.js';
import { fromWire, type WireRecord } from './admin.js';
import { parseVerifier } from './note.js';
import { ReaderError, type AuditReader, type ShownSession } from './reader.js';
import type { VerifyReport } from './verify.js';
import type { SessionSummary } from './types.js';

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function* ndjson(res: Response): AsyncGenerator<Record<string, unknown>> {
  let buf = '';
  const dec = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += dec.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
    }
  }
  if (buf.trim()) yield JSON.parse(buf) as Record<string, unknown>;
}

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof AdminError && err.status === 404) return null;
    throw err;
  }
}

export function remoteReader(base: string, token: string | null): AuditReader {
  const get = (path: string) => adminFetch(base, path, { token });
  const show = async (id: string, records: boolean): Promise<ShownSession | null> =>
    orNull(
      (async () => {
        const res = await get(`/v1/audit/sessions/${encodeURIComponent(id)}${records ? '' : '?records=0'}`);
        const j = (await res.json()) as { summary: SessionSummary; records?: WireRecord[] };
        return { summary: j.summary, records: (j.records ?? []).map(fromWire) };
      })(),
    );
  return {
    kind: 'remote',
    async listSessions(filter = {}, page = {}) {
      const { limit: fl, ...f } = filter;
      const limit = page.limit ?? fl;
      const res = await get(`/v1/audit/sessions${query({ ...f, limit, order: page.order, cursor: page.cursor })}`);
      return ((await res.json()) as { sessions: SessionSummary[] }).sessions;
    },
    async querySessions(q) {
      const res = await get(`/v1/audit/session-index${query({ ...q })}`);
      return (await res.json()) as SessionIndexPage;
    },
    async activeSessions(since) {
      const res = await get(`/v1/audit/active-sessions${query({ since })}`);
      return ((await res.json()) as { sessions: IndexedSession[] }).sessions;
    },
    sessionSummary: async (id) => (await show(id, false))?.summary ?? null,
    sessionRecords: async (id) => (await show(id, true))?.records ?? [],
    showSession: (id) => show(id, true),
    async *records(from, to) {
      const res = await get(`/v1/audit/records${query({ from, to })}`);
      for await (const msg of ndjson(res)) yield fromWire(msg as unknown as WireRecord);
    },
    latestCheckpoint: () => orNull(get('/v1/audit/checkpoint').then((r) => r.text())),
    async checkpoints(limit) {
      const res = await get(`/v1/audit/checkpoints${query({ limit })}`);
      return ((await res.json()) as { checkpoints: string[] }).checkpoints;
    },
    async publicKeys() {
      const text = await (await get('/v1/audit/public-keys')).text();
      return text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => parseVerifier(l.trim()));
    },
    async verify(opts = {}) {
      const res = await get('/v1/audit/verify');
      for await (const msg of ndjson(res)) {
        if (typeof msg.progress === 'number' && opts.onProgress) opts.onProgress(msg.progress, Number(msg.total));
        if (msg.report) return msg.report as VerifyReport;
      }
      throw new ReaderError('the admin API ended the verification without a report');
    },
    async *exportBundle(filter, stats) {
      const res = await get(`/v1/audit/export${query({ ...filter })}`);
      let tail = Buffer.alloc(0);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const b = Buffer.from(chunk);
        tail = Buffer.concat([tail, b]).subarray(-4096);
        yield b;
      }
      // The end line carries the record count.
      const lines = tail.toString('utf8').trimEnd().split('\n');
      try {
        const end = JSON.parse(lines[lines.length - 1]!) as { type?: string; records?: number };
        if (end.type !== 'end') throw new Error();
        if (stats) stats.records = end.records ?? 0;
      } catch {
        throw new ReaderError('the export from the admin API ended early (no end line)');
      }
    },
    close: async () => undefined,
  };
}
