// Test helpers: decode certificate fields with forge's ASN.1 parser (independent of the builder's code path).
import forge from 'node-forge';
import { connect, TLSSocket, type SecureContext, type PeerCertificate } from 'node:tls';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

export interface Ext {
  critical: boolean;
  /** extnValue contents (DER of the extension's own value). */
  value: Asn1;
}

function parse(der: Buffer): Asn1[] {
  const cert = asn1.fromDer(der.toString('binary'), { decodeBitStrings: false } as unknown as boolean);
  return (cert.value as Asn1[])[0]!.value as Asn1[];
}

export function extensions(der: Buffer): Map<string, Ext> {
  const tbs = parse(der);
  const wrapper = tbs.find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const out = new Map<string, Ext>();
  for (const ext of ((wrapper?.value as Asn1[])[0]!.value as Asn1[])) {
    const parts = ext.value as Asn1[];
    const oid = asn1.derToOid(parts[0]!.value as string);
    const critical = parts.length === 3 && (parts[1]!.value as string).charCodeAt(0) !== 0;
    const octets = parts[parts.length - 1]!.value as string;
    out.set(oid, { critical, value: asn1.fromDer(octets, { decodeBitStrings: false } as unknown as boolean) });
  }
  return out;
}

/** Raw DER of the TBS field at `index` (3 = issuer, 5 = subject). */
export function tbsFieldDer(der: Buffer, index: number): string {
  return asn1.toDer(parse(der)[index]!).getBytes();
}

/** The serial's INTEGER content bytes exactly as encoded. */
export function serialBytes(der: Buffer): Buffer {
  return Buffer.from(parse(der)[1]!.value as string, 'binary');
}

export function octets(node: Asn1): Buffer {
  return Buffer.from(node.value as string, 'binary');
}

/**
 * A TLS server on 127.0.0.1 that, like the proxy after a CONNECT, terminates TLS on the accepted socket
 * with the context for a host it already knows (not for the SNI, which IP-literal clients do not send).
 */
export async function tlsServer(contextFor: (host: string) => SecureContext, host: string) {
  const server = createNetServer((raw) => {
    const tls = new TLSSocket(raw, { isServer: true, secureContext: contextFor(host) });
    tls.on('error', () => tls.destroy());
    tls.on('secure', () => tls.end('hello'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface HandshakeResult {
  authorized: boolean;
  error?: string;
  peer?: PeerCertificate;
  data?: string;
}

/** Connects with full verification (`ca` = our CA only) and reports the outcome instead of throwing. */
export function handshake(port: number, opts: { ca?: string; servername?: string }): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const sock: TLSSocket = connect({ port, host: '127.0.0.1', ca: opts.ca ? [opts.ca] : undefined, servername: opts.servername });
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => (data += d));
    sock.on('secureConnect', () => {
      const peer = sock.getPeerCertificate();
      sock.on('end', () => resolve({ authorized: sock.authorized, peer, data }));
    });
    sock.on('error', (err) => resolve({ authorized: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    sock.setTimeout(20_000, () => sock.destroy(new Error('timeout')));
  });
}
