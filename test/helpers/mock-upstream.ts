// A local HTTPS server with its own test CA that mimics the OpenAI chat completions API.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCA } from '../../src/ca/index.js';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  servername: string | undefined;
}

export interface MockUpstream {
  port: number;
  /** PEM file of the test CA that signed the mock's certificate (pass to --upstream-ca). */
  caFile: string;
  caPem: string;
  seen: SeenRequest[];
  /** TLS connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections(): number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void | Promise<void>;

/** A ChatCompletionChunk line. */
export function chunkLine(content: string, i: number, finish: string | null = null): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'gpt-4.1-mini',
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content } : finish ? {} : { content }, finish_reason: finish }],
  })}\n\n`;
}

/**
 * Default behaviour: JSON or SSE chat completions. With a gate, the stream stops after its first chunk until
 * the gate opens: a test opens it only once its client has seen that chunk, so a proxy that buffers deadlocks.
 */
export function openaiHandler(gate?: () => Promise<void>): Handler {
  return async (req, body, res) => {
  if (req.url?.startsWith('/v1/chat/completions') && req.method === 'POST') {
    let parsed: { stream?: boolean; messages?: { content?: string }[]; delay_ms?: number; words?: number } = {};
    try {
      parsed = JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON body' } }));
      return;
    }
    const prompt = parsed.messages?.at(-1)?.content ?? '';
    const words = (`echo: ${prompt}`).split(' ');
    const n = parsed.words ?? words.length;
    if (parsed.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_test' });
      res.flushHeaders();
      for (let i = 0; i < n; i++) {
        const w = words[i % words.length]!;
        res.write(chunkLine(i === 0 ? w : ` ${w}`, i));
        if (i === 0 && gate) await gate();
        if (parsed.delay_ms) await new Promise((r) => setTimeout(r, parsed.delay_ms));
      }
      res.write(chunkLine('', n, 'stop'));
      res.end('data: [DONE]\n\n');
      return;
    }
    const payload = JSON.stringify({
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gpt-4.1-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: words.length, total_tokens: words.length + 1 },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
  };
}

/** A promise-based gate: `wait()` resolves once `open()` was called. */
export function makeGate(): { wait: () => Promise<void>; open: () => void; reset: () => void } {
  let open!: () => void;
  let p = new Promise<void>((r) => (open = r));
  return {
    wait: () => p,
    open: () => open(),
    reset: () => {
      p = new Promise<void>((r) => (open = r));
    },
  };
}

/** Starts the mock on 127.0.0.1 with a certificate for `hosts` from a fresh test CA. */
export async function startMockUpstream(opts: { hosts?: string[]; handler?: Handler } = {}): Promise<MockUpstream> {
  const hosts = opts.hosts ?? ['api.openai.com'];
  const dir = mkdtempSync(join(tmpdir(), 'wt-mock-ca-'));
  const ca = await loadOrCreateCA({ certsDir: dir });
  const caFile = join(dir, 'upstream-test-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const leaves = new Map(hosts.map((h) => [h, ca.leafFor(h)]));
  const first = leaves.get(hosts[0]!)!;
  const seen: SeenRequest[] = [];
  const handler = opts.handler ?? openaiHandler();
  const server = https.createServer(
    {
      cert: first.certPem,
      key: first.keyPem,
      SNICallback: (name, cb) => {
        const leaf = leaves.get(name) ?? first;
        cb(null, tlsModule.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem }));
      },
    },
    (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, servername: (req.socket as import('node:tls').TLSSocket).servername || undefined });
        Promise.resolve(handler(req, body, res)).catch(() => res.destroy());
      });
    },
  );
  let connections = 0;
  server.on('secureConnection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    connections: () => connections,
    port: (server.address() as AddressInfo).port,
    caFile,
    caPem: ca.certPem,
    seen,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

import tlsModule from 'node:tls';
