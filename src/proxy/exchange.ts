// One intercepted HTTP exchange: check, mask, record, forward, stream the answer back, record each chunk.
// Order matters for fail-closed: a record is committed before the bytes it describes move on.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { JsonObject, RecordKind } from '../audit/types.js';
import { identityMeta } from '../identity/types.js';
import { AWS_SIGNATURE_HEADERS, describeUpstreamError, signSigV4 } from '../upstream/index.js';
import {
  BodyTooLargeError,
  ClientGoneError,
  ProxyAuthError,
  StoreUnavailableError,
  UnmaskableRequestError,
  UpstreamBrokenError,
  WiretrailError,
  toWiretrailError,
} from '../errors/index.js';
import { decodeChunk, decodeEnd, decodeRequest, narrowAcceptEncoding, responseDecoding } from './body-coding.js';
import { CREDENTIAL_HEADERS, forwardable, recordedHeaders } from './headers.js';
import { RecordedResponse } from './recorded-response.js';
import { agentFromUserAgent } from './user-agent.js';
import { bodyForward } from './signed-requests.js';
import type { BufferBudget, BudgetLease } from './budget.js';
import type { Connections } from './connection.js';
import { report, secondsSince } from '../metrics/events.js';
import type { ConnContext } from './session.js';
import type { ProxyDeps, ProxyLimits } from './deps.js';

export const PROXY_AUTHENTICATE = 'Basic realm="wiretrail", Bearer realm="wiretrail"';

/**
 * Reads the body under the per-request limit, reserving every byte in the global budget before holding it.
 * A refusal mid-body leaves the request paused, not destroyed: destroying it would reset the connection
 * before the client could read the refusal (reply.ts lets the rest of the body drain, then closes).
 */
async function readBody(req: IncomingMessage, limit: number, lease: BudgetLease): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLargeError(`request body of ${declared} bytes exceeds the limit of ${limit}`);
  if (declared > 0) lease.reserve(declared);
  if (req.complete && req.readableEnded) return Buffer.alloc(0);
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (err: unknown) => {
      stop();
      req.pause();
      reject(err);
    };
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > limit) return fail(new BodyTooLargeError(`request body exceeds the limit of ${limit} bytes`));
      try {
        lease.reserveUpTo(n);
      } catch (err) {
        return fail(err);
      }
      parts.push(c);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(parts, n));
    };
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new ClientGoneError('client disconnected while sending the request body'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
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
  /** This exchange's share of the global request-body budget (released when the exchange ends). */
  lease: BudgetLease;
  record(kind: RecordKind, meta: JsonObject, body?: Buffer): Promise<unknown>;
  /** Records at once (in the OS when it returns); throws StoreUnavailableError. For the streaming hot path. */
  recordNow(kind: RecordKind, meta: JsonObject, body?: Buffer): void;
}

export async function handleExchange(
  deps: ProxyDeps,
  limits: ProxyLimits,
  budget: BufferBudget,
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
    lease: budget.open(),
    record: (kind, meta, body) => conns.append(ctx, kind, { n, ...meta }, body),
    recordNow: (kind, meta, body) => conns.appendNow(ctx, kind, { n, ...meta }, body),
  };
  let finished = false;
  res.on('close', () => {
    if (!finished) x.abort.abort();
  });
  // A shutdown lets this exchange finish; only when its grace period is over is the exchange stopped.
  if (conns.draining) res.setHeader('connection', 'close');
  const stop = () => x.abort.abort();
  conns.stopping.signal.addEventListener('abort', stop, { once: true });
  try {
    await checkStillAllowed(x);
    await forwardExchange(x);
  } catch (err) {
    x.abort.abort();
    await failExchange(x, err);
  } finally {
    finished = true;
    x.lease.release();
    conns.stopping.signal.removeEventListener('abort', stop);
    report.exchange(target.host, ctx.decision.action, res.headersSent ? res.statusCode : 0);
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
  const policy = deps.policy; // taken once: a policy reload never changes the rules under this request
  const settings = policy.settingsFor(target.host);
  const sides = policy.maskSides(target.host);
  const ex = { method: req.method ?? 'GET', host: target.host, path: target.path, requestHeaders: req.headers };
  const rawBody = await readBody(req, x.limits.maxRequestBodyBytes, x.lease);
  // Decoded at the edge; an undecodable body is refused here, before anything is forwarded (body-coding.ts).
  const plain = decodeRequest(req.headers, rawBody, x.limits.maxRequestBodyBytes);
  ex.requestHeaders = plain.headers;
  // Request rules: nothing is recorded as a request or sent upstream before the policy allows it.
  const gate = deps.gate
    ? await deps.gate.admit({
        policy, session: ctx.session, host: target.host, method: ex.method, path: target.path, headers: plain.headers, body: plain.body,
        identity: ctx.identity, clientAddress: ctx.client.address, res: x.res, signal: x.abort.signal,
        record: (kind, meta) => x.record(kind, meta), maskText: (t) => ctx.mask.maskText(t).text,
      })
    : null;
  if (gate && !gate.admit) {
    ctx.error = gate.code;
    return;
  }
  const metadataOnly = gate?.record === 'metadata';
  // A large body is masked in a worker thread (same result), so other clients are served meanwhile.
  const masked = deps.stream.requestMasker ? await deps.stream.requestMasker.mask(ex, plain.body, ctx.mask) : deps.stream.maskRequestBody(ex, plain.body, ctx.mask);
  // With the host's AWS credential wiretrail signs what it sends (SigV4), so a masked body keeps a valid signature.
  const aws = deps.credentials.awsSigningCredential?.(settings, ctx.identity, target.host) ?? null;
  // A credential exchange or a signed body goes up intact (or is refused): masking would break authentication.
  const forward = bodyForward({ host: target.host, path: target.path, headers: plain.headers, changed: sides.request && masked.changed, signedBodyPolicy: settings.signed_body, resign: aws !== null });
  const upstreamBody = sides.request && forward.kind === 'as-usual' ? masked.body : plain.body;
  // JSON that cannot be masked as a value is never forwarded, whatever the sides: the record always masks
  if (masked.refusal) throw new UnmaskableRequestError(masked.refusal.reason, { body: { text: masked.refusal.body, contentType: masked.refusal.contentType } });
  // The request line and headers are masked on the same sides as the body (credentials excepted).
  const maskedTarget = deps.stream.maskRequestTarget(target.path, ctx.mask);
  const upstreamPath = sides.request ? maskedTarget.path : target.path;

  // Credentials: the client's own key is removed; the policy's key (if any) is injected.
  const clientKey = deps.credentials.clientCredentialFinding(req.headers);
  const cred = deps.credentials.upstreamCredential(settings, ctx.identity, target.host);
  let headers = forwardable(plain.headers);
  if (sides.request) headers = deps.stream.maskRequestHeaders(headers as Record<string, string | string[] | undefined>, ctx.mask, (h) => CREDENTIAL_HEADERS.has(h) || h === 'host').headers;
  narrowAcceptEncoding(headers);
  for (const h of cred.strip) delete headers[h.toLowerCase()];
  if (aws) for (const h of AWS_SIGNATURE_HEADERS) delete headers[h];
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
    path: maskedTarget.recordPath,
    headers: recordedHeaders(req.headers, ctx.mask),
    bodyBytes: rawBody.length,
    ...(plain.decoded ? { decodedBytes: plain.body.length } : {}),
    adapter: masked.adapter,
    findings: [...maskedTarget.findings, ...masked.findings].map((f) => f.rule),
    forwardedMasked: sides.request && forward.kind === 'as-usual' && (masked.changed || maskedTarget.changed),
    ...(forward.kind === 'intact' ? { forwardedIntact: forward.why } : {}),
    identity: identityMeta(ctx.identity),
    client: ctx.client.address,
    injected: Object.keys(cred.set).map((h) => h.toLowerCase()),
    ...(aws ? { signedBy: 'wiretrail-sigv4' } : {}),
  };
  if (clientKey) requestMeta.clientSentKey = clientKey;
  if (gate) requestMeta.policy = gate.decision;
  // record: metadata keeps sizes, timings and the hash of what would have been stored, never the bytes.
  if (metadataOnly) Object.assign(requestMeta, { record: 'metadata', bodySha256: sha256Hex(masked.body) });
  const agent = agentFromUserAgent(req.headers['user-agent']);
  if (agent) requestMeta.agent = { name: agent.name, version: agent.version };
  await x.record('request', requestMeta, metadataOnly ? undefined : masked.body);
  for (const f of masked.findings) report.masked(f.rule);
  for (const [k, v] of Object.entries(cred.set)) headers[k.toLowerCase()] = v;
  // A held stream already told the client its body is identity-encoded SSE.
  if (gate?.streamStarted) delete headers['accept-encoding'];
  // Signed last, over exactly what is sent: the masked path, the final headers and the masked body.
  if (aws) headers = await signSigV4({ method: ex.method, host: target.host, path: upstreamPath, headers, body: upstreamBody }, aws);

  let upRes;
  const sent = process.hrtime.bigint();
  try {
    upRes = await deps.upstream.request({
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      method: ex.method,
      path: upstreamPath,
      headers,
      body: upstreamBody,
      signal: x.abort.signal,
    });
  } catch (err) {
    if (x.conns.stopping.signal.aborted) throw x.conns.shutdownError();
    if (x.abort.signal.aborted) throw new ClientGoneError('client disconnected before the upstream answered');
    throw describeUpstreamError(err, target.host);
  }
  report.upstreamTtfb(secondsSince(sent));
  // The answer to a credential exchange is the client's new credential (an access token): a masked one would
  // break the client just as a masked refresh token would. It goes back intact and is recorded masked.
  const answerIntact = forward.kind === 'intact' && forward.why === 'credential-exchange';
  await streamResponse(x, ex, upRes, sides.response && !answerIntact, metadataOnly, answerIntact);
}

function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function streamResponse(x: Exchange, ex: { method: string; host: string; path: string; requestHeaders: IncomingMessage['headers'] }, upRes: IncomingMessage, maskResponse: boolean, metadataOnly = false, answerIntact = false): Promise<void> {
  const { deps, ctx, res, target } = x;
  const tHead = Date.now();
  // In the OS before the head is sent; no separate wait for it.
  x.recordNow('response-head', {
    status: upRes.statusCode ?? 0,
    headers: recordedHeaders(upRes.headers, ctx.mask),
    ttfbMs: tHead - x.started,
  });
  let decoding;
  try {
    decoding = responseDecoding(upRes.headers);
  } catch (err) {
    upRes.destroy();
    throw err;
  }
  const { decoder } = decoding;
  const processor = deps.stream.createResponseProcessor(
    ex,
    { status: upRes.statusCode ?? 502, headers: decoding.headers },
    { client: maskResponse ? ctx.mask : null, record: ctx.mask },
    x.limits.maxEventBytes ? { maxEventSize: x.limits.maxEventBytes } : {},
  );
  if (processor.adapter === 'passthrough') {
    deps.logger.info({ session: ctx.session, host: target.host, path: target.path.split('?')[0], contentType: upRes.headers['content-type'] }, 'unknown response format: passed through unmodified (masked in the record)');
  }
  let headSent = false;
  const writeHead = (flush = false) => {
    if (headSent) return;
    headSent = true;
    // A request held for approval already sent its stream's head while it waited.
    if (res.headersSent) return;
    res.writeHead(upRes.statusCode ?? 502, forwardable(processor.headers));
    // Otherwise the head leaves with the first body bytes, in the same write.
    if (flush) res.flushHeaders();
  };
  // A stream's identity head goes out at once (streams start promptly). A body of known length comes
  // whole: its head waits for the body (one write instead of two). An encoded body waits for its first
  // decoded, recorded bytes, so a body that is not what its Content-Encoding says is still a clean 502.
  if (!decoder && upRes.headers['content-length'] === undefined) writeHead(true);
  // record: metadata keeps each chunk's size and hash, never its bytes. Chunks are recorded
  // synchronously (appendSync: in the OS when it returns), no wait per chunk.
  const recordChunk = (meta: JsonObject, body: Buffer) => (metadataOnly ? x.recordNow('chunk', { ...meta, sha256: sha256Hex(body) }) : x.recordNow('chunk', meta, body));
  const out = new RecordedResponse(res, recordChunk, writeHead);
  let upstreamBytes = 0;
  // Past the shutdown grace period a silent upstream must not hold the stream open.
  const cut = () => upRes.destroy(x.conns.shutdownError());
  x.conns.stopping.signal.addEventListener('abort', cut, { once: true });
  upRes.once('close', () => x.conns.stopping.signal.removeEventListener('abort', cut));
  try {
    for await (const chunk of upRes as AsyncIterable<Buffer>) {
      const at = Date.now();
      const t = process.hrtime.bigint();
      upstreamBytes += chunk.length;
      const plain = decoder ? await decodeChunk(decoder, chunk) : chunk;
      // No promise per chunk unless a decoder or a client pushing back needs one.
      const pushed = processor.push(plain);
      const committed = out.commit(pushed instanceof Promise ? await pushed : pushed, at);
      if (committed) await committed;
      report.chunkForward(secondsSince(t));
      if (res.destroyed || processor.broken) break;
    }
    if (res.destroyed) throw new ClientGoneError('client disconnected mid-stream');
    if (processor.broken) {
      // An oversize event or line: the processor closed the client's stream cleanly with what it committed;
      // stop reading upstream, record why, end the response.
      await out.commitPartial(processor.abort());
      upRes.destroy();
      decoder?.destroy();
      const { code, reason } = processor.broken;
      await x.record('error', { phase: 'response-body', reason, code, chunks: out.chunks, upstreamBytes, withheldBytes: out.withheldBytes });
      ctx.error = 'upstream-broken';
      deps.logger.warn({ session: ctx.session, host: target.host, code, upstreamBytes }, reason);
      out.closeHead();
      res.end();
      return;
    }
    if (decoder) {
      const tail = await decodeEnd(decoder);
      if (tail.length) await out.commit(await processor.push(tail), Date.now());
    }
    await out.commitEnd(await processor.end(), Date.now());
  } catch (err) {
    decoder?.destroy();
    if (err instanceof StoreUnavailableError) throw err;
    if (x.conns.stopping.signal.aborted && !res.destroyed) {
      // The shutdown grace period is over: end the client's stream cleanly with what was recorded.
      await out.commitPartial(processor.abort());
      upRes.destroy();
      const stopped = x.conns.shutdownError();
      await x.record('error', { phase: 'response-body', reason: stopped.message, code: stopped.code, endedBy: 'shutdown', chunks: out.chunks, upstreamBytes, withheldBytes: out.withheldBytes });
      ctx.error = 'ended-by-shutdown';
      out.closeHead();
      res.end();
      return;
    }
    // Upstream died, its body was undecodable, or the client left: keep what was held back, masked, in the
    // record. Bytes no record covers were never sent.
    await out.commitPartial(processor.abort());
    const clientGone = x.abort.signal.aborted || err instanceof ClientGoneError;
    const broken = err instanceof WiretrailError && !clientGone ? err : new UpstreamBrokenError(`upstream ended the stream abnormally: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    const reason = clientGone ? 'client disconnected mid-stream' : broken.message;
    const code = clientGone ? new ClientGoneError('').code : broken.code;
    upRes.destroy();
    if (!clientGone && !headSent) {
      // Nothing reached the client yet: answer with the reason instead of a cut connection.
      await x.conns.refuse(ctx, { kind: 'http', res }, broken, { n: x.n, meta: { phase: 'response-body', chunks: out.chunks, upstreamBytes } });
      return;
    }
    await x.record('error', { phase: 'response-body', reason, chunks: out.chunks, upstreamBytes, clientGone, code, withheldBytes: out.withheldBytes });
    ctx.error = clientGone ? 'client-aborted' : 'upstream-aborted';
    deps.logger.warn({ session: ctx.session, host: target.host, chunks: out.chunks, upstreamBytes, code }, reason);
    res.destroy();
    return;
  }
  await x.record('response-end', {
    status: upRes.statusCode ?? 0,
    adapter: processor.adapter,
    chunks: out.chunks,
    upstreamBytes,
    clientBytes: out.clientBytes + out.heldBytes,
    durationMs: Date.now() - x.started,
    ttfbMs: tHead - x.started,
    findings: processor.findings.map((f) => f.rule),
    ...(answerIntact && maskResponse === false ? { forwardedIntact: 'credential-exchange' } : {}),
  });
  for (const f of processor.findings) report.masked(f.rule);
  out.finish();
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
