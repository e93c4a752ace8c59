// The upstream stage: verified TLS (or plain HTTP for on-prem hosts), keep-alive agents per target,
// dialling exactly the address the SSRF guard approved.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync, existsSync } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
import { WiretrailError, type ProxyErrorType } from '../errors/index.js';
import { resolveTarget, type ConnectToRule, type ResolveOptions, type Resolved } from './resolve.js';
import { X509Certificate } from 'node:crypto';

export { parseConnectTo, resolveTarget, type ConnectToRule, type Resolved } from './resolve.js';
export { isNonPublicAddress, BlockedAddressError } from './address-guard.js';
export { signSigV4, scopeFromHost, AwsSigningError, AWS_SIGNATURE_HEADERS, type AwsCredentials, type SigningScope } from './sigv4.js';

export interface UpstreamOptions extends ResolveOptions {
  /** Extra trusted roots (PEM file contents) on top of the system store. Verification is never off. */
  extraCa: readonly string[];
  connectTimeoutMs?: number;
  /** Idle time on an upstream socket before it is closed; long SSE streams keep it alive. */
  idleTimeoutMs?: number;
}

export interface UpstreamRequest {
  scheme: 'https' | 'http';
  host: string;
  port: number;
  method: string;
  path: string;
  headers: http.OutgoingHttpHeaders;
  /** A whole body, or a stream piped through with backpressure (unrecorded plain-HTTP forwards). */
  body: Buffer | Readable;
  signal: AbortSignal;
}

/** An upstream failure translated for the client: status, Proxy-Status type, one line without secrets. */
export class UpstreamError extends WiretrailError {
  override readonly name = 'UpstreamError';
  override readonly code: string;
  override readonly status: number;
  override readonly proxyStatus: ProxyErrorType;
  /** The socket-level cause (ECONNREFUSED, CERT_HAS_EXPIRED, …), for the log line. */
  readonly errno: string;
  constructor(message: string, status: number, code: string, proxyStatus: ProxyErrorType, errno: string, cause?: unknown) {
    super(message, { cause });
    this.status = status;
    this.code = code;
    this.proxyStatus = proxyStatus;
    this.errno = errno;
  }
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

function systemRoots(): string[] {
  // Node's bundled Mozilla roots plus the OS bundle, so corporate roots installed in the OS work too.
  const roots = [...tls.rootCertificates];
  for (const f of SYSTEM_BUNDLES) {
    if (existsSync(f)) {
      try {
        roots.push(readFileSync(f, 'utf8'));
      } catch {
        /* unreadable bundle: Node's roots remain */
      }
      break;
    }
  }
  return roots;
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REVOKED', 'INVALID_CA', 'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH',
]);

/** Maps a connection error to a status and one clear line. Errors already in the hierarchy pass through. */
export function describeUpstreamError(err: unknown, host: string): WiretrailError {
  if (err instanceof WiretrailError) return err;
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const errno = e?.code ?? 'EUPSTREAM';
  const up = (msg: string, status: number, code: string, type: ProxyErrorType) => new UpstreamError(msg, status, code, type, errno, err);
  if (TLS_VERIFY_CODES.has(errno)) return up(`upstream TLS certificate of ${host} is not trusted: ${errno}`, 502, 'WT_ERR_UPSTREAM_TLS', 'tls_certificate_error');
  if (errno === 'ECONNREFUSED') return up(`upstream ${host} refused the connection`, 502, 'WT_ERR_UPSTREAM_REFUSED', 'connection_refused');
  if (errno === 'ETIMEDOUT' || errno === 'ECONNTIMEOUT') return up(`upstream ${host} did not answer in time`, 504, 'WT_ERR_UPSTREAM_TIMEOUT', 'connection_timeout');
  if (errno === 'ENOTFOUND' || errno === 'EAI_AGAIN') return up(`upstream ${host} does not resolve (${errno})`, 502, 'WT_ERR_UPSTREAM_DNS', 'destination_not_found');
  if (errno === 'ECONNRESET' || errno === 'EPIPE') return up(`upstream ${host} closed the connection`, 502, 'WT_ERR_UPSTREAM_RESET', 'connection_terminated');
  return up(`upstream ${host} failed: ${errno}`, 502, 'WT_ERR_UPSTREAM', 'destination_unavailable');
}

export class Upstream {
  private readonly agents = new Map<string, http.Agent>();
  // Built once: parsing ~150 roots per connection would dominate new-connection cost.
  private secureContext: tls.SecureContext;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;

  constructor(private readonly opts: UpstreamOptions) {
    this.secureContext = tls.createSecureContext({ ca: [...systemRoots(), ...opts.extraCa] });
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 10 * 60_000;
  }

  /** Replaces the extra trusted roots (SIGHUP): new upstream connections verify with them; pooled ones were verified already. */
  reloadExtraCa(extraCa: readonly string[]): void {
    // createSecureContext accepts PEM armour around garbage silently: parse every certificate first.
    extraCa.forEach((pem, i) => {
      const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (!blocks.length) throw new Error(`upstream CA file ${i + 1} holds no PEM certificate`);
      for (const b of blocks) {
        try {
          new X509Certificate(b);
        } catch (err) {
          throw new Error(`upstream CA file ${i + 1}: not a valid certificate (${(err as Error).message})`);
        }
      }
    });
    this.secureContext = tls.createSecureContext({ ca: [...systemRoots(), ...extraCa] });
  }

  /** Resolves and checks a target (for tunnels, which dial it themselves). */
  resolve(host: string, port: number): Promise<Resolved> {
    return resolveTarget(host, port, this.opts);
  }

  /** Opens a raw TCP connection to an approved address (blind tunnels). */
  async connectRaw(host: string, port: number): Promise<{ socket: net.Socket; resolved: Resolved }> {
    const resolved = await this.resolve(host, port);
    const socket = net.connect({ host: resolved.address, port: resolved.port, noDelay: true });
    await this.waitConnected(socket, host, 'connect');
    return { socket, resolved };
  }

  /** A verified TLS connection to an approved address (WebSocket upgrades, which need the socket itself). */
  connectTls(host: string, port: number): Promise<net.Socket> {
    return this.dial('https', host, port);
  }

  private waitConnected(socket: net.Socket, host: string, event: 'connect' | 'secureConnect'): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`connect to ${host} timed out`), { code: 'ETIMEDOUT' }));
      }, this.connectTimeoutMs);
      socket.once(event, () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve();
      });
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
    });
  }

  private agentFor(scheme: 'https' | 'http', host: string, port: number): http.Agent {
    const key = `${scheme}://${host}:${port}`;
    let agent = this.agents.get(key);
    if (agent) return agent;
    const self = this;
    // timeout: an idle pooled socket is closed after it, or sooner when the server announced a shorter
    // Keep-Alive timeout (Node's agent honours the hint only when it has a timeout of its own). Without
    // it a socket the server was just closing got reused and the client got a 502 (seen on the bench).
    const base = { keepAlive: true, keepAliveMsecs: 15_000, maxSockets: 256, maxFreeSockets: 32, scheduling: 'lifo' as const, timeout: this.idleTimeoutMs };
    // createConnection with a callback: resolve + SSRF-check first, then dial exactly that address.
    const createConnection = (_o: unknown, cb: (err: Error | null, s?: Duplex) => void): undefined => {
      self.dial(scheme, host, port).then((s) => cb(null, s), (err: Error) => cb(err));
      return undefined;
    };
    agent = scheme === 'https' ? new https.Agent(base) : new http.Agent(base);
    (agent as unknown as { createConnection: typeof createConnection }).createConnection = createConnection;
    this.agents.set(key, agent);
    return agent;
  }

  private async dial(scheme: 'https' | 'http', host: string, port: number): Promise<net.Socket> {
    const resolved = await this.resolve(host, port);
    let socket: net.Socket;
    if (scheme === 'https') {
      socket = tls.connect({
        host: resolved.address,
        port: resolved.port,
        // SNI and certificate verification use the logical host, never the dialled address.
        servername: net.isIP(host) ? undefined : host,
        checkServerIdentity: (_h, cert) => tls.checkServerIdentity(host, cert),
        secureContext: this.secureContext,
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: true,
      });
      socket.setNoDelay(true);
      await this.waitConnected(socket, host, 'secureConnect');
    } else {
      socket = net.connect({ host: resolved.address, port: resolved.port, noDelay: true });
      await this.waitConnected(socket, host, 'connect');
    }
    socket.setKeepAlive(true, 30_000);
    return socket;
  }

  /** Sends a request; resolves with the response head (body still streaming). */
  request(r: UpstreamRequest): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const mod = r.scheme === 'https' ? https : http;
      const req = mod.request({
        agent: this.agentFor(r.scheme, r.host, r.port),
        method: r.method,
        path: r.path,
        headers: r.headers,
        signal: r.signal,
        // host/port here only label the agent's pool; createConnection dials the approved address.
        host: r.host,
        port: r.port,
      });
      // Per-request idle timeout: ClientRequest.setTimeout removes its socket listener when the request ends,
      // so keep-alive sockets do not accumulate listeners.
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(Object.assign(new Error('upstream idle timeout'), { code: 'ETIMEDOUT' })));
      req.once('response', resolve);
      req.once('error', (err) => reject(describeUpstreamError(err, r.host)));
      if (Buffer.isBuffer(r.body)) req.end(r.body.length ? r.body : undefined);
      else r.body.pipe(req);
    });
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
