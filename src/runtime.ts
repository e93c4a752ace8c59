// Assembles a running wiretrail from a Config: the one place where every stage meets.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import { DEFAULT_SHUTDOWN_GRACE_SECONDS, type Config } from './config/index.js';
import { createLogger } from './log/index.js';
import { PolicyStage, createRequestGate, approvalAdminRoutes, type ReloadResult } from './policy/index.js';
import { loadOrCreateCA } from './ca/index.js';
import { Upstream, parseConnectTo } from './upstream/index.js';
import { openAuditLog, auditAdminRoutes, type AuditLog } from './audit/index.js';
import { createAuthenticator, identityAdminRoutes, upstreamCredential, clientCredentialFinding, credentialSourceProblems, awsSigningCredential } from './identity/index.js';
import { createMaskEngine } from './mask/index.js';
import { createResponseProcessor, maskRequestBody, maskRequestHeaders, maskRequestTarget, RequestMaskPool, type RequestMasker } from './stream/index.js';
import { createProxyServer } from './proxy/index.js';
import { createAdminServer, ensureAdminToken, isAdminToken } from './admin/server.js';
import { createAdminUi, uiSourceFromLog } from './admin/ui/index.js';
import { createMetrics, opsAdminRoutes, timedRecorder, type ReadinessCheck } from './metrics/index.js';

export interface Running {
  proxy: AddressInfo;
  admin: AddressInfo | null;
  logger: Logger;
  /** The audit log (the proxy's recorder), for in-process readers. */
  recorder: AuditLog;
  /** Re-reads the policy file (SIGHUP); a bad file is refused and the old policy stays. */
  reloadPolicy(reason?: string): ReloadResult;
  /** The CA certificate (PEM) clients must trust. */
  caPem: string;
  caPath: string;
  close(): Promise<void>;
  /** SIGTERM/SIGINT: stop, end every session, sign a final checkpoint; resolves false if something failed. */
  shutdown(signal: string): Promise<boolean>;
  /**
   * SIGHUP: re-reads the upstream CA files and re-checks the credential sources without dropping a
   * connection (the policy stage reloads the policy itself). A bad CA file is refused with one log line
   * and the previous roots stay.
   */
  reload(reason: string): { ok: boolean; message: string };
}

export async function startWiretrail(config: Config, opts: { logDestination?: DestinationStream; banner?: boolean; requestMasker?: RequestMasker } = {}): Promise<Running> {
  const logger = createLogger({ level: config.logLevel, ...(opts.logDestination ? { destination: opts.logDestination } : {}) });
  const policyStage = new PolicyStage({ file: config.policyFile, logger });
  const policy = policyStage.current(); // start-time sections (auth, oidc, mask) are read from this one
  const connectTo = config.connectTo.map(parseConnectTo);
  const extraCa = config.upstreamCaFiles.map((f) => readFileSync(f, 'utf8'));
  const ca = await loadOrCreateCA({ certsDir: config.certsDir, logger });
  const auth = await createAuthenticator({ policy, dataDir: config.dataDir, logger });
  const recorder = await openAuditLog({
    dataDir: config.dataDir,
    certsDir: config.certsDir,
    logger,
    ...(config.audit.origin ? { origin: config.audit.origin } : {}),
    ...(config.audit.checkpointIntervalMs ? { checkpointIntervalMs: config.audit.checkpointIntervalMs } : {}),
    ...(config.audit.checkpointEveryRecords ? { checkpointEveryRecords: config.audit.checkpointEveryRecords } : {}),
    ...(config.audit.maxIngestLagBytes ? { maxIngestLagBytes: config.audit.maxIngestLagBytes } : {}),
    ...(config.audit.witness ? { witness: config.audit.witness } : {}),
    ...(config.audit.retentionDays ? { retentionDays: config.audit.retentionDays } : {}),
  });
  const upstream = new Upstream({
    connectTo,
    extraCa,
    allowPrivate: (h) => policyStage.current().allowsPrivate(h),
    idleTimeoutMs: config.limits.upstreamIdleTimeoutMs,
  });
  const mask = createMaskEngine({
    placeholder: policy.doc.mask.placeholder,
    customRules: policy.doc.mask.rules,
    allow: policy.doc.mask.allow,
  });
  const metrics = createMetrics({
    // The latest checkpoint is copied to <data>/checkpoints/latest once durable; its mtime is when.
    checkpointAgeSeconds() {
      try {
        return (Date.now() - statSync(join(config.dataDir, 'checkpoints', 'latest')).mtimeMs) / 1000;
      } catch {
        return null;
      }
    },
    leafCacheEntries: () => ca.stats().cached,
  });
  let stopping = false;
  const readinessChecks: ReadinessCheck[] = [
    { name: 'store', check: () => (recorder.writable ? null : 'the audit store cannot write (disk full or I/O error); intercepted traffic is refused') },
    { name: 'ca', check: () => (ca.notAfter.getTime() > Date.now() ? null : `the CA certificate expired at ${ca.notAfter.toISOString()}`) },
    { name: 'policy', check: () => (policy ? null : 'no valid policy loaded') },
    { name: 'shutdown', check: () => (stopping ? 'shutting down' : null) },
  ];
  // Large request bodies are masked in worker threads so one tenant's flood does not stall the rest (docs/proxy.md).
  const requestMasker = opts.requestMasker ?? new RequestMaskPool();
  const proxy = createProxyServer({
    // A getter: each exchange and CONNECT reads the policy in force when it starts.
    get policy() {
      return policyStage.current();
    },
    gate: createRequestGate(policyStage, logger),
    ca,
    upstream,
    recorder: timedRecorder(recorder),
    auth,
    mask,
    stream: { createResponseProcessor, maskRequestBody, maskRequestTarget, maskRequestHeaders, requestMasker },
    credentials: { upstreamCredential, clientCredentialFinding, awsSigningCredential },
    logger,
    limits: config.limits,
  });

  let proxyAddr: AddressInfo;
  try {
    proxyAddr = await proxy.listen(config.listen.port, config.listen.host);
  } catch (err) {
    await recorder.close();
    throw new Error(`cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let adminAddr: AddressInfo | null = null;
  let admin: ReturnType<typeof createAdminServer> | null = null;
  if (config.admin) {
    const token = ensureAdminToken(config.certsDir);
    const routes = [
      ...auditAdminRoutes(recorder),
      ...identityAdminRoutes(auth),
      ...approvalAdminRoutes({ approvals: policyStage.approvals, adminToken: token, verifyToken: (t) => auth.verifyToken(t) }),
    ];
    admin = createAdminServer({
      token,
      logger,
      routes: [...opsAdminRoutes(metrics, readinessChecks), ...routes],
      allowedHosts: config.adminHosts ?? [],
      health: () => ({ ok: recorder.writable, store: recorder.writable ? 'writable' : 'failing', caNotAfter: ca.notAfter.toISOString() }),
      ui: createAdminUi({ source: uiSourceFromLog(recorder), checkToken: (t) => isAdminToken(t, token), approvals: routes.some((r) => r.path === '/v1/approvals') }),
    });
    try {
      adminAddr = await admin.listen(config.admin.port, config.admin.host);
    } catch (err) {
      await proxy.close();
      await recorder.close();
      throw new Error(`cannot listen on admin ${config.admin.host}:${config.admin.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  const hostPort = (a: AddressInfo) => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
  if (adminAddr) policyStage.setAdminUrl(`http://${hostPort(adminAddr)}`);
  policyStage.watch();
  logger.info({ listen: hostPort(proxyAddr), admin: adminAddr ? hostPort(adminAddr) : null, data: config.dataDir, certs: config.certsDir, policy: config.policyFile, intercept: policy.interceptPatterns, egress: policy.doc.egress, auth: policy.doc.auth }, 'wiretrail started');
  if (opts.banner !== false) {
    const proxyUrl = `http://${hostPort(proxyAddr)}`;
    process.stderr.write(
      [
        '',
        `wiretrail proxy listening on ${proxyUrl}` + (adminAddr ? `  (admin API on http://${hostPort(adminAddr)})` : ''),
        `data: ${config.dataDir}   certs: ${config.certsDir}   policy: ${config.policyFile}`,
        '',
        'Point clients at it (or run `wiretrail env` for the full set, including a CA bundle for curl/Python/git):',
        `  export HTTPS_PROXY=${proxyUrl} https_proxy=${proxyUrl}`,
        `  export NO_PROXY=localhost,127.0.0.1,::1 no_proxy=localhost,127.0.0.1,::1`,
        `  export NODE_EXTRA_CA_CERTS=${ca.certPath}`,
        `  export NODE_USE_ENV_PROXY=1`,
        `  eval "$(npx wiretrail env --proxy ${proxyUrl} --certs ${config.certsDir})"   # adds SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, GIT_SSL_CAINFO`,
        '',
        ...ca.warnings.map((w) => `WARNING: ${w}`),
      ].join('\n') + '\n',
    );
  }

  let closing: Promise<void> | null = null;
  const running: Running = {
    proxy: proxyAddr,
    admin: adminAddr,
    logger,
    recorder,
    reloadPolicy: (reason = 'reload') => policyStage.reload(reason),
    caPem: ca.certPem,
    caPath: ca.certPath ?? join(config.certsDir, 'ca.pem'),
    close() {
      closing ??= (async () => {
        policyStage.close(); // ends held requests (their clients are cut, the cancellation recorded)
        await proxy.close();
        await requestMasker.close();
        if (admin) await admin.close();
        upstream.close();
        await recorder.close();
        await (auth as { close?: () => Promise<void> }).close?.();
        metrics.close();
        logger.flush();
      })();
      return closing;
    },
    reload(reason) {
      let pems: string[];
      try {
        pems = config.upstreamCaFiles.map((f) => readFileSync(f, 'utf8'));
        upstream.reloadExtraCa(pems);
      } catch (err) {
        const message = `upstream CA reload refused (${reason}): ${(err as Error).message.split('\n')[0]}; the previous roots stay in force`;
        logger.error({ files: config.upstreamCaFiles }, message);
        return { ok: false, message };
      }
      const missing = credentialSourceProblems(policy);
      for (const m of missing) logger.warn({ reason }, `credential source unavailable: ${m}`);
      const message = `reloaded (${reason}): ${pems.length} upstream CA files; ${missing.length ? `${missing.length} credential sources unavailable` : 'every credential source available'}`;
      logger.info({ reason }, message);
      return { ok: missing.length === 0, message };
    },
    async shutdown(signal) {
      stopping = true;
      const graceSeconds = config.shutdownGraceSeconds ?? DEFAULT_SHUTDOWN_GRACE_SECONDS;
      logger.info({ signal, graceSeconds }, 'shutting down: no new connections; in-flight exchanges may finish');
      try {
        // The admin API stays up meanwhile: /readyz answers 503 "shutting down" so balancers move on.
        const { cut } = await proxy.drain(graceSeconds * 1000);
        await running.close();
        const cp = recorder.latestCheckpoint();
        logger.info({ signal, cut, checkpoint: cp ? cp.size : null }, cut ? `stopped: ${cut} exchanges ended by shutdown after the grace period` : 'stopped: every exchange finished');
        logger.flush();
        return true;
      } catch (err) {
        logger.error({ signal, err: (err as Error).message }, 'shutdown failed');
        logger.flush();
        return false;
      }
    },
  };
  return running;
}
