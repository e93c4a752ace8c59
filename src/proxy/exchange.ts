// One intercepted HTTP exchange: check, mask, record, forward, stream the answer back, record each chunk.
// Order matters for fail-closed: a record is committed before the bytes it describes move on.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonObject, RecordKind } from '../audit/types.js';
import { identityMeta } from '../identity/types.js';
import { describeUpstreamError } from '../upstream/index.js';
import {
  BodyTooLargeError,
  ClientGoneError,
  ProxyAuthError,
  StoreUnavailableError,
  UpstreamBrokenError,
  WiretrailError,
  toWiretrailError,
} from '../errors/index.js';
import { forwardable, recordedHeaders } from './headers.js';
import { agentFromUserAgent } from './user-agent.js';
import type { Connections } from './connection.js';
import type { ConnContext } from './session.js';
import type { ProxyDeps, ProxyLimits, Output } from './deps.js';

export const PROXY_AUTHENTICATE = 'Basic realm="wiretrail", Bearer realm="wiretrail"';

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLargeError(`request body of ${declared} bytes exceeds the limit of ${limit}`);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new BodyTooLargeError(`request body exceeds the limit of ${limit} bytes`);
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

/** Everything one exchange needs; built once per request. */
interface Exchange {
  deps: ProxyDeps;
  limits: ProxyLimits;
  conns: Connections;
  ctx: ConnContext;
  req: IncomingMessage;
  res: ServerResponse;
  target: ExchangeTarget;
  n: number;
  started: number;
  abort: AbortController;
  record(kind: RecordKind, meta: JsonObject, body?: Buffer): Promise<unknown>;
}

export async function handleExchange(
  deps: ProxyDeps,
  limits: ProxyLimits,
  conns: Connections,
  ctx: ConnContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: ExchangeTarget,
): Promise<void> {
  ctx.requests++;
  const n = ctx.requests;
  const x: Exchange = {
    deps, limits, conns, ctx, req, res, target, n,
    started: Date.now(),
    abort: new AbortController(),
    record: (kind, meta, body) => conns.append(ctx, kind, { n, ...meta }, body),
  };
  let finished = false;
  res.on('close', () => {
    if (!finished) x.abort.abort();
  });
  try {
    await checkStillAllowed(x);
    await forwardExchange(x);
  } catch (err) {
    x.abort.abort();
    await failExchange(x, err);
  } finally {
    finished = true;
  }
}

/** Identity may have expired or been revoked since the connection opened; the store must be writable. */
async function checkStillAllowed(x: Exchange): Promise<void> {
  if (x.ctx.identity.kind !== 'anonymous') {
    const again = await x.deps.auth.recheck(x.ctx.identity);
    if (!again.ok) {
      x.res.setHeader('connection', 'close');
      throw new ProxyAuthError(`proxy authentication failed: ${again.reason}`, { headers: { 'proxy-authenticate': PROXY_AUTHENTICATE } });
    }
  }
  if (!x.deps.recorder.writable) throw new StoreUnavailableError('the audit store cannot record this exchange; it was not forwarded');
}

async function forwardExchange(x: Exchange): Promise<void> {
  const { deps, ctx, req, target } = x;
  const settings = deps.policy.settingsFor(target.host);
  const sides = deps.policy.maskSides(target.host);
  const ex = { method: req.method ?? 'GET', host: target.host, path: target.path, requestHeaders: req.headers };
  const rawBody = await readBody(req, x.limits.maxRequestBodyBytes);
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
  await x.record('request', requestMeta, masked.body);
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
      signal: x.abort.signal,
    });
  } catch (err) {
    if (x.abort.signal.aborted) throw new ClientGoneError('client disconnected before the upstream answered');
    throw describeUpstreamError(err, target.host);
  }
  await streamResponse(x, ex, upRes, sides.response);
}

async function streamResponse(x: Exchange, ex: { method: string; host: string; path: string; requestHeaders: IncomingMessage['headers'] }, upRes: IncomingMessage, maskResponse: boolean): Promise<void> {
  const { deps, ctx, res, target } = x;
  const processor = deps.stream.createResponseProcessor(
    ex,
    { status: upRes.statusCode ?? 502, headers: upRes.headers },
    { client: maskResponse ? ctx.mask : null, record: ctx.mask },
  );
  const tHead = Date.now();
  await x.record('response-head', {
    status: upRes.statusCode ?? 0,
    headers: recordedHeaders(upRes.headers, ctx.mask),
    adapter: processor.adapter,
    ttfbMs: tHead - x.started,
  });
  if (processor.adapter === 'passthrough') {
    deps.logger.info({ session: ctx.session, host: target.host, path: target.path.split('?')[0], contentType: upRes.headers['content-type'] }, 'unknown response format: passed through unmodified (masked in the record)');
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
      await x.record('chunk', { at, i: chunks, bytes: out.record.length }, out.record);
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
    if (res.destroyed) throw new ClientGoneError('client disconnected mid-stream');
    await emit(await processor.end(), Date.now());
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    // Upstream died (or the client left): keep what was held back, masked, in the record.
    const rest = processor.abort();
    if (rest.record.length) await x.record('chunk', { at: Date.now(), i: ++chunks, bytes: rest.record.length, partial: true }, rest.record);
    const clientGone = x.abort.signal.aborted || err instanceof ClientGoneError;
    const reason = clientGone ? 'client disconnected mid-stream' : `upstream ended the stream abnormally: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    await x.record('error', { phase: 'response-body', reason, chunks, upstreamBytes, clientGone, code: clientGone ? new ClientGoneError('').code : new UpstreamBrokenError('').code });
    ctx.error = clientGone ? 'client-aborted' : 'upstream-aborted';
    deps.logger.warn({ session: ctx.session, host: target.host, chunks, upstreamBytes }, reason);
    upRes.destroy();
    res.destroy();
    return;
  }
  await x.record('response-end', {
    status: upRes.statusCode ?? 0,
    chunks,
    upstreamBytes,
    clientBytes,
    durationMs: Date.now() - x.started,
    ttfbMs: tHead - x.started,
    findings: processor.findings.map((f) => f.rule),
  });
  res.end();
}

/** Every failure of an exchange ends here: one refusal (recorded, answered, logged) or a cut connection. */
async function failExchange(x: Exchange, err: unknown): Promise<void> {
  const { ctx, res } = x;
  if (err instanceof ClientGoneError) {
    // Nobody to answer: record why the exchange stopped, then free the socket.
    ctx.error = 'client-aborted';
    try {
      await x.record('error', { phase: 'request', reason: err.message, clientGone: true, code: err.code });
    } catch (e) {
      x.deps.logger.warn({ session: ctx.session, err: (e as Error).message }, 'client abort not recorded');
    }
    res.destroy();
    return;
  }
  if (err instanceof StoreUnavailableError) {
    x.deps.logger.error({ session: ctx.session, host: x.target.host, err: err.message }, 'AUDIT STORE FAILED: intercepted traffic stopped (fail closed)');
    err = new StoreUnavailableError('the audit store cannot record this exchange; it was not forwarded', { cause: err });
  }
  // Credential resolution (403: no credential for the caller's groups; 502: env/file missing) and other
  // local failures arrive here too: their messages never carry secret values.
  const w = err instanceof WiretrailError ? err : toWiretrailError(err);
  await x.conns.refuse(ctx, { kind: 'http', res }, w, { n: x.n, meta: { phase: phaseOf(w) } });
}

function phaseOf(err: WiretrailError): string {
  if (err.code.startsWith('WT_ERR_UPSTREAM')) return 'upstream-connect';
  if (err.code === 'WT_ERR_DESTINATION_PROHIBITED') return 'upstream-connect';
  return 'proxy';
}
