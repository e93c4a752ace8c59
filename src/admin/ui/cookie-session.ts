// Browser sessions for the admin UI: the admin token is exchanged once (login form) for a random
// session id kept server-side and sent as an HttpOnly, SameSite=Strict cookie. Bounded and expiring.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE_NAME = 'wt_session';
const MAX_SESSIONS = 1000;

export class CookieSessions {
  private readonly sessions = new Map<string, number>(); // id -> expiry (unix ms); insertion order = age

  constructor(private readonly ttlMs = 8 * 3600_000, private readonly now = () => Date.now()) {}

  /** Starts a session; the oldest is dropped when the table is full (memory stays bounded). */
  create(): string {
    const id = randomBytes(32).toString('base64url');
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(id, this.now() + this.ttlMs);
    return id;
  }

  /** True when the request carries a live session cookie. */
  valid(req: IncomingMessage): boolean {
    const id = cookieValue(req, COOKIE_NAME);
    if (!id) return false;
    const exp = this.sessions.get(id);
    if (exp === undefined) return false;
    if (exp <= this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  end(req: IncomingMessage): void {
    const id = cookieValue(req, COOKIE_NAME);
    if (id) this.sessions.delete(id);
  }

  /** Set-Cookie value for a new session (Secure is left out: the admin API is plain HTTP on loopback). */
  cookie(id: string): string {
    return `${COOKIE_NAME}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.ttlMs / 1000)}`;
  }

  static clearCookie(): string {
    return `${COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}

export function cookieValue(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}
