// A local OIDC issuer for tests: jose-generated signing keys, discovery and JWKS on 127.0.0.1
// (HTTPS with a test CA, or plain HTTP), key publication under test control (rotation).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { TestPki } from './test-ca.js';

interface Key {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export class TestIssuer {
  readonly keys = new Map<string, Key>();
  readonly published = new Set<string>();
  hits = { discovery: 0, jwks: 0 };
  issuer = '';
  private server!: Server;

  static async start(opts: { tls?: TestPki; issuerPath?: string } = {}): Promise<TestIssuer> {
    const t = new TestIssuer();
    const handler = (req: IncomingMessage, res: ServerResponse) => t.handle(req, res);
    t.server = opts.tls ? createHttpsServer({ key: opts.tls.keyPem, cert: opts.tls.certPem }, handler) : createHttpServer(handler);
    await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', r));
    const port = (t.server.address() as AddressInfo).port;
    t.issuer = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${opts.issuerPath ?? ''}`;
    await t.addKey('k1', 'RS256', true);
    return t;
  }

  get jwksUri(): string {
    return `${this.issuer}/jwks`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const base = new URL(this.issuer).pathname.replace(/\/$/, '');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `${base}/.well-known/openid-configuration`) {
      this.hits.discovery++;
      json({ issuer: this.issuer, jwks_uri: this.jwksUri, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    } else if (path === `${base}/jwks`) {
      this.hits.jwks++;
      json(this.jwks());
    } else {
      res.writeHead(404).end();
    }
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.published].map((k) => this.keys.get(k)!.jwk) };
  }

  async addKey(kid: string, alg: 'RS256' | 'ES256' | 'PS256', publish: boolean): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys.set(kid, { kid, alg, privateKey, publicKey, jwk });
    if (publish) this.published.add(kid);
  }

  publish(kid: string): void {
    this.published.add(kid);
  }

  async publicKeyPem(kid = 'k1'): Promise<string> {
    return exportSPKI(this.keys.get(kid)!.publicKey);
  }

  /** A signed ID token; defaults: iss = this issuer, aud 'wiretrail', sub 'repo:acme/app:ref:refs/heads/main', 10 min. */
  async sign(claims: JWTPayload = {}, opts: { kid?: string; omit?: string[] } = {}): Promise<string> {
    const kid = opts.kid ?? 'k1';
    const key = this.keys.get(kid)!;
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: this.issuer,
      aud: 'wiretrail',
      sub: 'repo:acme/app:ref:refs/heads/main',
      iat: now,
      nbf: now - 5,
      exp: now + 600,
      ...claims,
    };
    for (const k of opts.omit ?? []) delete payload[k];
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid, typ: 'JWT' }).sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** GitHub Actions-like claims. */
export const GITHUB_CLAIMS = {
  sub: 'repo:acme/app:ref:refs/heads/main',
  repository: 'acme/app',
  ref: 'refs/heads/main',
  sha: '0123456789abcdef0123456789abcdef01234567',
  run_id: '4242',
  workflow: 'ci',
  actor: 'octocat',
  repository_owner: 'acme',
  environment: 'prod',
};
