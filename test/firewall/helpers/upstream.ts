// The `upstream` namespace of the end-to-end test: HTTPS hosts, a TCP and a UDP echo, and DNS
// resolvers. Configured by a JSON file (argv[2]); prints "ready" once everything listens.
import https from 'node:https';
import net from 'node:net';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

interface Config {
  https: { host: string; addresses: string[]; certPem: string; keyPem: string }[];
  echo: { addresses: string[]; tcpPort: number; udpPort: number };
  dns: { addresses: string[]; answer: string };
}

const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Config;
const pending: Promise<void>[] = [];
const listening = (s: { once(ev: 'listening', f: () => void): unknown; once(ev: 'error', f: (e: Error) => void): unknown }) =>
  new Promise<void>((resolve, reject) => {
    s.once('listening', resolve);
    s.once('error', reject);
  });

for (const h of cfg.https) {
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') {
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'mock-model', object: 'model' }], served_by: h.host }));
      } else if (req.url === '/v1/chat/completions' && req.method === 'POST') {
        res.end(JSON.stringify({ id: 'chatcmpl-fw', object: 'chat.completion', model: 'mock-model', choices: [{ index: 0, message: { role: 'assistant', content: `hello from ${h.host}` }, finish_reason: 'stop' }], served_by: h.host, echoed: body.length }));
      } else {
        res.end(JSON.stringify({ served_by: h.host, path: req.url }));
      }
    });
  };
  // one server per address: a server listens once
  for (const a of h.addresses) {
    const s = https.createServer({ cert: h.certPem, key: h.keyPem }, handler);
    pending.push(listening(s));
    s.listen(443, a);
  }
}

for (const a of cfg.echo.addresses) {
  const tcp = net.createServer((sock) => sock.on('data', (d) => sock.end(Buffer.concat([Buffer.from('echo:'), d]))).on('error', () => {}));
  pending.push(listening(tcp));
  tcp.listen(cfg.echo.tcpPort, a);
  const udp = dgram.createSocket(a.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => udp.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
  pending.push(listening(udp));
  udp.bind(cfg.echo.udpPort, a);
}

/** Answers every A query with cfg.dns.answer (enough to tell a reply from silence). */
function dnsAnswer(query: Buffer): Buffer | null {
  if (query.length < 12) return null;
  let end = 12;
  while (end < query.length && query[end] !== 0) end += query[end]! + 1;
  const question = query.subarray(12, end + 5);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180, 2); // response, recursion desired + available, no error
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  rr.writeUInt16BE(1, 2); // A
  rr.writeUInt16BE(1, 4); // IN
  rr.writeUInt32BE(60, 6);
  rr.writeUInt16BE(4, 10);
  cfg.dns.answer.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
  return Buffer.concat([header, question, rr]);
}

for (const a of cfg.dns.addresses) {
  const udp = dgram.createSocket(a.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => {
    const reply = dnsAnswer(msg);
    if (reply) udp.send(reply, rinfo.port, rinfo.address);
  });
  pending.push(listening(udp));
  udp.bind(53, a);
}

await Promise.all(pending);
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
