// Starts a whole wiretrail in-process on loopback with temporary data and certs folders.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startWiretrail, type Running } from '../../src/runtime.js';
import type { Config } from '../../src/config/index.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

export interface Harness extends Running {
  dir: string;
  dataDir: string;
  certsDir: string;
  proxyUrl: string;
  /** Every pino line written so far (JSON strings). */
  logs: string[];
  /** The configuration it was started with (to start another wiretrail on a copy of its folders). */
  config: Config;
  stop(): Promise<void>;
}

export async function startHarness(opts: {
  policy?: string;
  upstreamCa?: string[];
  connectTo?: string[];
  config?: Partial<Config>;
  admin?: boolean;
  /** Replaces the request-body masking pool (tests that hold it mid-job). */
  requestMasker?: import('../../src/stream/index.js').RequestMasker;
} = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-test-'));
  const dataDir = join(dir, 'data');
  const certsDir = join(dir, 'certs');
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, opts.policy ?? 'egress: audit\n');
  const logs: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(line);
      cb();
    },
  });
  const config: Config = {
    listen: { host: '127.0.0.1', port: 0 },
    admin: opts.admin ? { host: '127.0.0.1', port: 0 } : null,
    dataDir,
    certsDir,
    policyFile,
    upstreamCaFiles: opts.upstreamCa ?? [],
    connectTo: opts.connectTo ?? [],
    logLevel: 'info',
    limits: { ...DEFAULT_LIMITS, upstreamIdleTimeoutMs: 60_000 },
    audit: { checkpointIntervalMs: 200 },
    ...opts.config,
  };
  const running = await startWiretrail(config, { logDestination: dest as unknown as import('pino').DestinationStream, banner: false, ...(opts.requestMasker ? { requestMasker: opts.requestMasker } : {}) });
  return {
    ...running,
    dir,
    dataDir,
    certsDir,
    proxyUrl: `http://127.0.0.1:${running.proxy.port}`,
    logs,
    config,
    async stop() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
