// Revocation and expiry reach connections that are already open. The identity stage has no push signal
// (`tokens revoke --data DIR` may run in another process and only rewrites the token file, which readers
// notice on their next read), so the proxy re-checks, every `credentialRecheckMs`, each distinct credential
// behind an open connection through the same Authenticator.recheck used before every request, and closes
// the connections of a credential that ended: blind tunnels included, which otherwise forward until idle.
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Authenticator, Identity } from '../identity/types.js';
import { CredentialEndedError } from '../errors/index.js';
import type { Connections } from './connection.js';
import type { ConnContext } from './session.js';

function credentialKey(id: Identity): string | null {
  if (id.kind === 'anonymous') return null;
  return id.tokenId ? `token:${id.tokenId}` : `${id.kind}:${id.issuer ?? ''}:${id.subject ?? ''}:${id.expiresAt ?? ''}`;
}

export class CredentialWatch {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly conns: Connections,
    private readonly auth: Authenticator,
    private readonly logger: Logger,
    private readonly everyMs: number,
  ) {}

  start(): void {
    if (this.timer || this.everyMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.sweeping) this.sweeping = this.sweep().finally(() => (this.sweeping = null));
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** One pass: one recheck per credential, then every connection of an ended credential is closed. */
  async sweep(): Promise<void> {
    const byCredential = new Map<string, { identity: Identity; live: [ConnContext, Duplex][] }>();
    for (const [ctx, socket] of this.conns.live()) {
      const key = credentialKey(ctx.identity);
      if (!key) continue;
      const entry = byCredential.get(key) ?? { identity: ctx.identity, live: [] };
      entry.live.push([ctx, socket]);
      byCredential.set(key, entry);
    }
    for (const { identity, live } of byCredential.values()) {
      let outcome;
      try {
        outcome = await this.auth.recheck(identity);
      } catch (err) {
        // A recheck that throws is a bug in the identity stage; keep the connections, say so once per sweep.
        this.logger.error({ err: (err as Error).message }, 'credential recheck failed');
        continue;
      }
      if (outcome.ok) continue;
      for (const [ctx, socket] of live) await this.end(ctx, socket, outcome.reason);
    }
  }

  private async end(ctx: ConnContext, socket: Duplex, reason: string): Promise<void> {
    if (ctx.ended || socket.destroyed) return;
    const err = new CredentialEndedError(`credential ended while the connection was open: ${reason}`);
    // No HTTP answer fits mid-stream on a tunnel or an intercepted connection: record, log, close.
    await this.conns.refuse(ctx, { kind: 'drop', socket }, err, { meta: { phase: 'credential-ended' } });
  }
}
