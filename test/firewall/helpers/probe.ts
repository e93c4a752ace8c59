// Runs in the `runner` namespace: tries raw TCP, UDP and DNS exchanges and prints one JSON line with
// the outcome of each, so the test sees exactly what a process on the runner can reach.
import net from 'node:net';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';

export type Probe =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'udp'; host: string; port: number }
  | { kind: 'dns'; server: string; name: string };

export interface ProbeResult {
  ok: boolean;
  /** The reply (ok) or the error code / 'timeout' (not ok). */
  detail: string;
}

const WAIT_MS = 4000;

function tcp(host: string, port: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let data = '';
    const timer = setTimeout(() => finish({ ok: false, detail: 'timeout' }), WAIT_MS);
    const finish = (r: ProbeResult) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    s.on('connect', () => s.write('ping'));
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => finish({ ok: data.length > 0, detail: data }));
    s.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, detail: e.code ?? e.message }));
  });
}

function udp(host: string, port: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish({ ok: false, detail: 'timeout' }), WAIT_MS);
    const finish = (r: ProbeResult) => {
      clearTimeout(timer);
      s.close();
      resolve(r);
    };
    s.on('message', (m) => finish({ ok: true, detail: m.toString() }));
    s.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, detail: e.code ?? e.message }));
    s.send('ping', port, host, (err) => {
      if (err) finish({ ok: false, detail: (err as NodeJS.ErrnoException).code ?? err.message });
    });
  });
}

async function dns(server: string, name: string): Promise<ProbeResult> {
  const r = new Resolver({ timeout: WAIT_MS, tries: 1 });
  r.setServers([server]);
  try {
    return { ok: true, detail: (await r.resolve4(name)).join(',') };
  } catch (e) {
    return { ok: false, detail: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

const probes = JSON.parse(process.argv[2]!) as Probe[];
const results = await Promise.all(
  probes.map((p) => (p.kind === 'tcp' ? tcp(p.host, p.port) : p.kind === 'udp' ? udp(p.host, p.port) : dns(p.server, p.name))),
);
process.stdout.write(JSON.stringify(results) + '\n');
