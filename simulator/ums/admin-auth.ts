import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * IMI authentication: `POST /umsapi/v3/login` with HTTP basic auth opens a session (cookie
 * `JSESSIONID`), as IGEL's IMI does. For scripts, basic auth on any IMI request is accepted too.
 */

export interface AdminCredentials {
  readonly username: string;
  readonly password: string;
}

export const SESSION_COOKIE = "JSESSIONID";

export type AuthResult = { readonly ok: true; readonly username: string } | { readonly ok: false; readonly reason: string };

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AdminAuth {
  /** session id → expiry (ms since epoch) */
  private readonly sessions = new Map<string, number>();

  constructor(
    private readonly credentials: AdminCredentials,
    private readonly sessionTtlMs = 30 * 60_000,
  ) {}

  /** Checks HTTP basic credentials. */
  checkBasic(req: IncomingMessage): AuthResult {
    const header = req.headers.authorization;
    if (!header) return { ok: false, reason: "no credentials: log in with POST /umsapi/v3/login (basic auth) and send the JSESSIONID cookie" };
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return { ok: false, reason: "the Authorization header is not HTTP basic auth" };
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return { ok: false, reason: "the basic auth credentials have no ':' between user and password" };
    const user = decoded.slice(0, colon);
    const ok = same(user, this.credentials.username) && same(decoded.slice(colon + 1), this.credentials.password);
    return ok ? { ok: true, username: user } : { ok: false, reason: `wrong user name or password for '${user}'` };
  }

  login(): string {
    const id = randomBytes(16).toString("hex").toUpperCase();
    this.sessions.set(id, Date.now() + this.sessionTtlMs);
    return id;
  }

  /** A session cookie, or basic auth. */
  check(req: IncomingMessage): AuthResult {
    const cookie = req.headers.cookie ?? "";
    const id = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([0-9A-F]+)`).exec(cookie)?.[1];
    if (id) {
      const expiry = this.sessions.get(id);
      if (expiry !== undefined && expiry > Date.now()) return { ok: true, username: this.credentials.username };
      if (!req.headers.authorization) return { ok: false, reason: `the ${SESSION_COOKIE} session is unknown or expired; log in again with POST /umsapi/v3/login` };
    }
    return this.checkBasic(req);
  }
}
