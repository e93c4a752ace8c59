// One intercepted HTTP exchange: check, mask, record, forward, stream the answer back, record each chunk.
// Order matters for fail-closed: a record is committed before the bytes it describes move on.
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { StoreUnavailableError, type JsonObject } from '../audit/types.js';
import { identityMeta } from '../identity/types.js';
import { describeUpstreamError } from '../upstream/index.js';
import { forwardable, recordedHeaders } from './headers.js';
import { agentFromUserAgent } from './user-agent.js';
import type { ConnContext } from './session.js';
import type { ProxyDeps, ProxyLimits, Output } from './deps.js';

export class ExchangeRefusal extends Error {
  constructor(readonly status: number, message: string, readonly headers: OutgoingHttpHeaders = {}) {
    super(message);
  }
}

/** Sends a one-line plain-text error; never echoes request data. */
export function sendError(res: ServerResponse, status: number, message: string, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `wiretrail: ${message}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-wiretrail-error': '1' });
  res.end(body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ExchangeRefusal(413, `request body of ${declared} bytes exceeds the limit of ${limit}`);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new ExchangeRefusal(413, `request body exceeds the limit of ${limit} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

function writeChunk(res: ServerResponse, data: Buffer): Promise<void> {
  if (data.length === 0 || res.destroyed) return Promise.resolve();
  if (res.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export interface ExchangeTarget {
  scheme: 'https' | 'http';
  host: string;
  port: number;
  path: string;
}

export async function handleExchange(
  deps: ProxyDeps,
  limits: ProxyLimits,
  ctx: ConnContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: ExchangeTarget,
): Promise<void> {
  const { recorder, policy, logger } = deps;
  const started = Date.now();
  ctx.requests++;
  const n = ctx.requests;
  const record = (kind: Parameters<typeof recorder.append>[0]['kind'], meta: JsonObject, body?: Buffer) =>
    recorder.append({ session: ctx.session, kind, meta: { n, ...meta }, ...(body && body.length ? { body } : {}) });

  // Identity may have expired or been revoked since the connection opened.
  if (ctx.identity.kind !== 'anonymous') {
    const again = await deps.auth.recheck(ctx.identity);
    if (!again.ok) {
      await record('deny', { reason: `authentication: ${again.reason}`, status: 407, identity: identityMeta(ctx.identity) }).catch(() => undefined);
      res.setHeader('connection', 'close');
      sendError(res, 407, `proxy authentication failed: ${again.reason}`, { 'proxy-authenticate': 'Basic realm="wiretrail"' });
      return;
    }
  }
  if (!recorder.writable) {
    logger.error({ session: ctx.session, host: target.host }, 'audit store unavailable: refusing intercepted request');
    sendError(res, 503, 'the audit store cannot record this exchange; it was not forwarded');
    return;
  }

  const abort = new AbortController();
  let finished = false;
  res.on('close', () => {
    if (!finished) abort.abort();
  });

  const settings = policy.settingsFor(target.host);
  const sides = policy.maskSides(target.host);
  const ex = { method: req.method ?? 'GET', host: target.host, path: target.path, requestHeaders: req.headers };
  try {
    const rawBody = await readBody(req, limits.maxRequestBodyBytes);
    const masked = deps.stream.maskRequestBody(ex, rawBody, ctx.mask);
    const upstreamBody = sides.request ? masked.body : rawBody;

    // Credentials: the client's own key is removed; the policy's key (if any) is injected.
    const clientKey = deps.credentials.clientCredentialFinding(req.headers);
    const cred = deps.credentials.upstreamCredential(settings, ctx.identity, target.host);
    const headers = forwardable(req.headers);
    for (const h of cred.strip) delete headers[h.toLowerCase()];
    const defaultPort = target.scheme === 'https' ? 443 : 80;
    headers.host = target.port === defaultPort ? target.host : `${target.host}:${target.port}`;
    // The body was read whole: always send it with an exact length (chunked bodies included).
    if (upstreamBody.length > 0 || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined)
      headers['content-length'] = String(upstreamBody.length);
    delete headers['expect'];

    const requestMeta: JsonObject = {
      method: ex.method,
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      path: ctx.mask.maskText(target.path).text,
      headers: recordedHeaders(req.headers, ctx.mask),
      bodyBytes: rawBody.length,
      adapter: masked.adapter,
      findings: masked.findings.map((f) => f.rule),
      forwardedMasked: sides.request && masked.changed,
      identity: identityMeta(ctx.identity),
      client: ctx.client.address,
      injected: Object.keys(cred.set).map((h) => h.toLowerCase()),
    };
    if (clientKey) requestMeta.clientSentKey = clientKey;
    const agent = agentFromUserAgent(req.headers['user-agent']);
    if (agent) requestMeta.agent = { name: agent.name, version: agent.version };
    await record('request', requestMeta, masked.body);
    for (const [k, v] of Object.entries(cred.set)) headers[k.toLowerCase()] = v;

    let upRes;
    try {
      upRes = await deps.upstream.request({
        scheme: target.scheme,
        host: target.host,
        port: target.port,
        method: ex.method,
        path: target.path,
        headers,
        body: upstreamBody,
        signal: abort.signal,
      });
    } catch (err) {
      if (abort.signal.aborted) throw Object.assign(new Error('client disconnected before the upstream answered'), { clientGone: true });
      const ue = describeUpstreamError(err, target.host);
      await record('error', { phase: 'upstream-connect', code: ue.code, reason: ue.message, status: ue.status });
      ctx.error = ue.code;
      sendError(res, ue.status, ue.message);
      return;
    }

    const processor = deps.stream.createResponseProcessor(
      ex,
      { status: upRes.statusCode ?? 502, headers: upRes.headers },
      { client: sides.response ? ctx.mask : null, record: ctx.mask },
    );
    const tHead = Date.now();
    await record('response-head', {
      status: upRes.statusCode ?? 0,
      headers: recordedHeaders(upRes.headers, ctx.mask),
      adapter: processor.adapter,
      ttfbMs: tHead - started,
    });
    if (processor.adapter === 'passthrough') {
      logger.info({ session: ctx.session, host: target.host, path: target.path.split('?')[0], contentType: upRes.headers['content-type'] }, 'unknown response format: passed through unmodified (masked in the record)');
    }
    res.writeHead(upRes.statusCode ?? 502, forwardable(processor.headers));
    res.flushHeaders();

    let chunks = 0;
    let upstreamBytes = 0;
    let clientBytes = 0;
    // Record first, then forward: a chunk that cannot be recorded never reaches the client.
    const emit = async (out: Output, at: number) => {
      if (out.record.length > 0) {
        chunks++;
        await record('chunk', { at, i: chunks, bytes: out.record.length }, out.record);
      }
      if (out.client.length > 0) {
        clientBytes += out.client.length;
        await writeChunk(res, out.client);
      }
    };
    try {
      for await (const chunk of upRes as AsyncIterable<Buffer>) {
        const at = Date.now();
        upstreamBytes += chunk.length;
        await emit(await processor.push(chunk), at);
        if (res.destroyed) break;
      }
      if (res.destroyed) throw Object.assign(new Error('client disconnected mid-stream'), { clientGone: true });
      await emit(await processor.end(), Date.now());
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      // Upstream died (or the client left): keep what was held back, masked, in the record.
      const rest = processor.abort();
      if (rest.record.length) await record('chunk', { at: Date.now(), i: ++chunks, bytes: rest.record.length, partial: true }, rest.record);
      const clientGone = abort.signal.aborted || (err as { clientGone?: boolean }).clientGone === true;
      const reason = clientGone ? 'client disconnected mid-stream' : `upstream ended the stream abnormally: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      await record('error', { phase: 'response-body', reason, chunks, upstreamBytes, clientGone });
      ctx.error = clientGone ? 'client-aborted' : 'upstream-aborted';
      logger.warn({ session: ctx.session, host: target.host, chunks, upstreamBytes }, reason);
      upRes.destroy();
      res.destroy();
      return;
    }
    await record('response-end', {
      status: upRes.statusCode ?? 0,
      chunks,
      upstreamBytes,
      clientBytes,
      durationMs: Date.now() - started,
      ttfbMs: tHead - started,
      findings: processor.findings.map((f) => f.rule),
    });
    finished = true;
    res.end();
  } catch (err) {
    finished = true;
    abort.abort();
    if (err instanceof ExchangeRefusal) {
      await record('deny', { reason: err.message, status: err.status }).catch(() => undefined);
      sendError(res, err.status, err.message, err.headers);
      return;
    }
    if (err instanceof StoreUnavailableError) {
      logger.error({ session: ctx.session, host: target.host, err: err.message }, 'AUDIT STORE FAILED: intercepted traffic stopped (fail closed)');
      ctx.error = 'store-unavailable';
      sendError(res, 503, 'the audit store cannot record this exchange; it was not forwarded');
      return;
    }
    if ((err as { clientGone?: boolean }).clientGone) {
      await record('error', { phase: 'request', reason: (err as Error).message, clientGone: true }).catch(() => undefined);
      ctx.error = 'client-aborted';
      res.destroy();
      return;
    }
    // Credential resolution (403: no credential for the caller's groups; 502: env/file missing) or another
    // local failure: one clear line, no secret (these messages never carry values).
    const msg = (err as Error).message ?? String(err);
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 502;
    logger.error({ session: ctx.session, host: target.host, err: msg }, 'exchange failed');
    await record(status === 403 ? 'deny' : 'error', { phase: 'proxy', reason: msg, status }).catch(() => undefined);
    ctx.error = 'proxy-error';
    sendError(res, status, msg.split('\n')[0]!);
  }
}
