// Leaf issuance benchmark (issue 2, s6): `npx tsx bench/leaf.ts [N]`.
// Issues N leaves for new hosts through the real CA (forge TBS + native ECDSA P-256 signature), measuring each
// synchronous call (= how long it blocks the event loop) and the loop delay seen by a timer meanwhile;
// compares with node-forge signing the whole certificate in JavaScript (RSA-2048, its only key type).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import forge from 'node-forge';
import { loadOrCreateCA } from '../src/ca/index.js';
import { buildCertificate } from '../src/ca/build.js';
import { publicKeyInfo, signerFor } from '../src/ca/keys.js';
import { randomSerialHex } from '../src/ca/serial.js';

export interface Stats {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1]! };
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export interface LeafBench {
  /** leafFor on a new host: certificate only. */
  certificate: Stats;
  /** contextFor on a new host: certificate + tls.createSecureContext, what the proxy calls. */
  context: Stats;
  /** Event-loop delay p99/max (ms) observed by perf_hooks while contexts were issued one per tick. */
  loopDelayP99: number;
  loopDelayMax: number;
  /** Process CPU time per new host (ms): unlike wall-clock figures, not inflated by other load on the machine. */
  certificateCpu: number;
  contextCpu: number;
  /** A cache hit for comparison. */
  cachedContext: Stats;
  forgeRsa: Stats;
  nativeRsa: Stats;
}

export async function benchLeafIssuance(n = 1000, forgeN = 5): Promise<LeafBench> {
  const dir = mkdtempSync(join(tmpdir(), 'wiretrail-bench-'));
  try {
    const ca = await loadOrCreateCA({ certsDir: dir, cacheSize: 3 * n + 100, contextCacheSize: 3 * n + 100 });
    for (let i = 0; i < 50; i++) ca.contextFor(`warmup-${i}.example`); // JIT warm-up

    const cert: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      ca.leafFor(`cert-${i}.bench.example`);
      cert.push(performance.now() - t0);
      if (i % 50 === 0) await yieldToLoop();
    }
    const certCpu = process.cpuUsage(cpu0);

    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const ctx: number[] = [];
    const cpu1 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      ca.contextFor(`ctx-${i}.bench.example`);
      ctx.push(performance.now() - t0);
      await yieldToLoop();
    }
    const ctxCpu = process.cpuUsage(cpu1);
    h.disable();

    const hit: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      ca.contextFor(`ctx-${i}.bench.example`);
      hit.push(performance.now() - t0);
    }

    return {
      certificate: stats(cert),
      context: stats(ctx),
      certificateCpu: (certCpu.user + certCpu.system) / 1000 / n,
      contextCpu: (ctxCpu.user + ctxCpu.system) / 1000 / n,
      loopDelayP99: h.percentile(99) / 1e6,
      loopDelayMax: h.max / 1e6,
      cachedContext: stats(hit),
      forgeRsa: forgeOnly(forgeN),
      nativeRsa: nativeRsa(Math.min(n, 200)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The whole certificate in forge: RSA-2048 CA key, forge's JavaScript SHA-256/RSA signature. */
function forgeOnly(n: number): Stats {
  const caKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const leafKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const issuer = [{ name: 'commonName', value: 'bench CA' }];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const host = `forge-${i}.bench.example`;
    const t0 = performance.now();
    const c = forge.pki.createCertificate();
    c.publicKey = leafKeys.publicKey;
    c.serialNumber = randomSerialHex();
    c.validity.notBefore = new Date(Date.now() - 3_600_000);
    c.validity.notAfter = new Date(Date.now() + 30 * 86_400_000);
    c.setSubject([{ name: 'commonName', value: host }]);
    c.setIssuer(issuer);
    c.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
    ]);
    c.sign(caKeys.privateKey, forge.md.sha256.create());
    forge.pki.certificateToPem(c);
    out.push(performance.now() - t0);
  }
  return stats(out);
}

/** Same forge TBS path as the CA, signed natively with an RSA-2048 CA key: isolates the signing cost. */
function nativeRsa(n: number): Stats {
  const ca = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = signerFor(ca.privateKey);
  const spki = publicKeyInfo(leaf.publicKey).spkiAsn1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const host = `rsa-${i}.bench.example`;
    const t0 = performance.now();
    buildCertificate(
      {
        serialHex: randomSerialHex(),
        subject: [{ name: 'commonName', value: host }],
        notBefore: new Date(Date.now() - 3_600_000),
        notAfter: new Date(Date.now() + 30 * 86_400_000),
        spki,
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
        ],
      },
      signer,
    );
    out.push(performance.now() - t0);
  }
  return stats(out);
}

const fmt = (s: Stats) =>
  `${String(s.n).padStart(5)}  ${s.mean.toFixed(3).padStart(8)}  ${s.p50.toFixed(3).padStart(8)}  ${s.p99.toFixed(3).padStart(8)}  ${s.max.toFixed(3).padStart(8)}`;

export function formatLeafBench(r: LeafBench): string {
  return [
    'leaf issuance (ms per new host; a synchronous call, so this is also the event-loop block)',
    `${'case'.padEnd(50)}      n      mean       p50       p99       max`,
    `${'certificate only, forge TBS + native P-256 (leafFor)'.padEnd(50)}${fmt(r.certificate)}`,
    `${'certificate + SecureContext (contextFor)'.padEnd(50)}${fmt(r.context)}`,
    `${'cache hit (contextFor)'.padEnd(50)}${fmt(r.cachedContext)}`,
    `${'forge TBS + native RSA-2048 signature'.padEnd(50)}${fmt(r.nativeRsa)}`,
    `${'forge only: JavaScript RSA-2048 signature'.padEnd(50)}${fmt(r.forgeRsa)}`,
    `CPU time per new host: certificate ${r.certificateCpu.toFixed(3)} ms, certificate + SecureContext ${r.contextCpu.toFixed(3)} ms`,
    `event-loop delay while issuing contexts one per tick: p99 ${r.loopDelayP99.toFixed(2)} ms, max ${r.loopDelayMax.toFixed(2)} ms`,
    `speed-up of the issued path over forge-only signing: ${(r.forgeRsa.mean / r.context.mean).toFixed(0)}x (mean)`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 1000);
  if (!(Number.isInteger(n) && n > 0)) {
    process.stderr.write('usage: npx tsx bench/leaf.ts [N]\n');
    process.exit(2);
  }
  console.log(formatLeafBench(await benchLeafIssuance(n)));
}
