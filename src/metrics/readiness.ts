// /readyz: ready when the audit store is writable, the CA is loaded and valid, the policy is valid and
// wiretrail is not shutting down. Each check returns null when fine or a one-line reason.

export interface ReadinessCheck {
  name: string;
  check(): string | null;
}

export interface ReadinessReport {
  ready: boolean;
  /** The first failing check's reason (what an operator reads first). */
  reason?: string;
  checks: Record<string, string>;
}

export function readiness(checks: readonly ReadinessCheck[]): ReadinessReport {
  const out: Record<string, string> = {};
  let reason: string | undefined;
  for (const c of checks) {
    let r: string | null;
    try {
      r = c.check();
    } catch (err) {
      r = (err as Error).message;
    }
    out[c.name] = r ?? 'ok';
    if (r !== null && reason === undefined) reason = `${c.name}: ${r}`;
  }
  return reason === undefined ? { ready: true, checks: out } : { ready: false, reason, checks: out };
}
