import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * IMI authentication: `POST /umsapi/v3/login` with HTTP basic auth opens a session (cookie
 * `JSESSIONID`), as IGEL's IMI does, and `POST /umsapi/v3/logout` ends it. For scripts, basic auth
 * on any IMI request is accepted too. Repeated wrong passwords lock the account for a while, the
 * lock doubling with each lockout, and while it is locked even the right password is refused
 * (429 with Retry-After), so guessing is slow whatever the client does (our model: IGEL documents
 * no lockout policy for the IMI; assumption `ums-admin-lockout`).
 */

export interface AdminCredentials {
  readonly username: string;
  readonly password: string;
}

export interface LockoutPolicy {
  /** Consecutive failures that lock the account. */
  readonly failures: number;
  /** The first lock, ms; each further lockout doubles it. */
  readonly firstLockMs: number;
  /** The longest lock, ms. */
  readonly maxLockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { failures: 5, firstLockMs: 30_000, maxLockMs: 15 * 60_000 };

export const SESSION_COOKIE = "JSESSIONID";

export type AuthResult =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly reason: string; /** Seconds until a locked account takes attempts again. */ readonly retryAfterSeconds?: number };

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Attempts {
  failures: number;
  lockouts: number;
  lockedUntil: number;
}

export class AdminAuth {
  /** session id → expiry (ms since epoch) */
  private readonly sessions = new Map<string, number>();
  /** user name as tried → its failed attempts (unknown names too, so that names cannot be told apart). */
  private readonly attempts = new Map<string, Attempts>();

  constructor(
    private readonly credentials: AdminCredentials,
    private readonly sessionTtlMs = 30 * 60_000,
    private readonly lockout: LockoutPolicy = DEFAULT_LOCKOUT,
  ) {}

  /** Checks HTTP basic credentials (a failure counts towards the user's lockout). */
  checkBasic(req: IncomingMessage): AuthResult {
    const header = req.headers.authorization;
    if (!header) return { ok: false, reason: "no credentials: log in with POST /umsapi/v3/login (basic auth) and send the JSESSIONID cookie" };
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return { ok: false, reason: "the Authorization header is not HTTP basic auth" };
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return { ok: false, reason: "the basic auth credentials have no ':' between user and password" };
    const user = decoded.slice(0, colon);
    const now = Date.now();
    const a = this.attempts.get(user);
    if (a && a.lockedUntil > now) {
      const retryAfterSeconds = Math.ceil((a.lockedUntil - now) / 1000);
      return { ok: false, reason: `'${user.slice(0, 64)}' is locked after ${this.lockout.failures} wrong passwords; try again in ${retryAfterSeconds} s`, retryAfterSeconds };
    }
    const ok = same(user, this.credentials.username) && same(decoded.slice(colon + 1), this.credentials.password);
    if (ok) {
      this.attempts.delete(user);
      return { ok: true, username: user };
    }
    this.fail(user, now);
    return { ok: false, reason: `wrong user name or password for '${user.slice(0, 64)}'` };
  }

  private fail(user: string, now: number): void {
    if (this.attempts.size > 10_000 && !this.attempts.has(user)) this.attempts.clear(); // bounded memory against name spraying
    const a = this.attempts.get(user) ?? { failures: 0, lockouts: 0, lockedUntil: 0 };
    a.failures++;
    if (a.failures >= this.lockout.failures) {
      a.lockedUntil = now + Math.min(this.lockout.maxLockMs, this.lockout.firstLockMs * 2 ** a.lockouts);
      a.lockouts++;
      a.failures = 0;
    }
    this.attempts.set(user, a);
  }

  login(): string {
    const id = randomBytes(16).toString("hex").toUpperCase();
    this.sessions.set(id, Date.now() + this.sessionTtlMs);
    return id;
  }

  /** Ends the session the request's cookie names; false when it names none that is open. */
  logout(req: IncomingMessage): boolean {
    const id = sessionId(req);
    const open = id !== undefined && (this.sessions.get(id) ?? 0) > Date.now();
    if (id !== undefined) this.sessions.delete(id);
    return open;
  }

  /** A session cookie, or basic auth. */
  check(req: IncomingMessage): AuthResult {
    const id = sessionId(req);
    if (id) {
      const expiry = this.sessions.get(id);
      if (expiry !== undefined && expiry > Date.now()) return { ok: true, username: this.credentials.username };
      if (!req.headers.authorization) return { ok: false, reason: `the ${SESSION_COOKIE} session is unknown, ended or expired; log in again with POST /umsapi/v3/login` };
    }
    return this.checkBasic(req);
  }
}

function sessionId(req: IncomingMessage): string | undefined {
  return new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([0-9A-F]+)`).exec(req.headers.cookie ?? "")?.[1];
}
