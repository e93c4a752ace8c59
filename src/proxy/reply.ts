// How a refusal reaches the client: a plain-text one-liner plus the RFC 9209 `Proxy-Status` header, so
// curl -v, git and log shippers can show why even when they never print a CONNECT reply's body.
// Two carriers: a ServerResponse (requests the HTTP parser still owns) or a raw socket (after CONNECT,
// or a socket the parser gave up on). Never echoes request data beyond the error's own one-line message.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WiretrailError } from '../errors/index.js';
import { endAfterRequestBody } from './linger.js';

// 'drop': no HTTP answer is possible (mid TLS handshake: plain HTTP bytes would be garbage), so the
// refusal is recorded and logged and the socket freed.
export type ReplyTarget = { kind: 'http'; res: ServerResponse } | { kind: 'raw'; socket: Duplex } | { kind: 'drop'; socket: Duplex };

export const PROXY_NAME = 'wiretrail';
const MAX_DETAILS = 200;

/** RFC 8941 sf-string content: printable ASCII only, `\` and `"` escaped, bounded. */
function sfString(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_DETAILS);
  return `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `wiretrail; error=destination_ip_prohibited; details="…"` (RFC 9209 §2). */
export function proxyStatusHeader(err: WiretrailError): string {
  return `${PROXY_NAME}; error=${err.proxyStatus}; details=${sfString(err.message.split('\n')[0]!)}`;
}

function replyHeaders(err: WiretrailError, body: string): Record<string, string | number> {
  return {
    ...err.headers,
    'proxy-status': proxyStatusHeader(err),
    'content-type': err.body?.contentType ?? 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-wiretrail-error': err.code,
  };
}

/** Sends the refusal and closes what must be closed. A response whose head already left is cut instead. */
export function reply(to: ReplyTarget, err: WiretrailError): void {
  const body = err.body?.text ?? `wiretrail: ${err.message.split('\n')[0]}\n`;
  const headers = replyHeaders(err, body);
  if (to.kind === 'http') {
    const { res } = to;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    if (res.req?.complete === false) {
      // Refused while the client is still sending its body: answer now, close once the body is over
      // (bounded), so the client reads the status instead of a reset (linger.ts).
      res.setHeader('connection', 'close');
      res.writeHead(err.status, headers);
      endAfterRequestBody(res, body);
      return;
    }
    res.writeHead(err.status, headers);
    res.end(body);
    return;
  }
  const { socket } = to;
  if (to.kind === 'drop' || socket.destroyed) {
    socket.destroy();
    return;
  }
  const head = [`HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`, 'connection: close'];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  socket.end(head.join('\r\n') + '\r\n\r\n' + body);
}
