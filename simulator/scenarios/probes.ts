import * as fs from "node:fs";
import * as https from "node:https";
import { isIP } from "node:net";
import WebSocket from "ws";

/**
 * Single requests a device (or an attacker on the device side) makes, reporting exactly what came
 * back: a status and who answered, or the TLS/network error.
 */

export interface ProbeIdentity {
  /** Client certificate chain (PEM). */
  readonly cert: string;
  readonly key: string;
}

export interface ProbeTarget {
  readonly url: string;
  readonly serverName: string;
  readonly trustedCaFile: string;
  readonly identity?: ProbeIdentity;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ProbeAnswer {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: string;
  /** Set when no HTTP answer came: the TLS or network error code. */
  readonly error?: string;
  /** A WebSocket upgrade succeeded. */
  readonly upgraded?: boolean;
}

function tlsOptions(t: ProbeTarget) {
  const u = new URL(t.url);
  return {
    host: u.hostname,
    port: Number(u.port || 443),
    servername: isIP(t.serverName) ? undefined : t.serverName,
    ca: fs.readFileSync(t.trustedCaFile),
    // As a device does (device/tls-trust.ts): the CA given is an anchor even when it is not a root.
    allowPartialTrustChain: true,
    cert: t.identity?.cert,
    key: t.identity?.key,
  };
}

export function httpsGet(t: ProbeTarget, path: string): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const req = https.request({ ...tlsOptions(t), path, method: "GET", agent: false, timeout: 10_000, headers: { ...t.headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c.length + body.length < 65536 ? c : ""));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on("error", (e: NodeJS.ErrnoException) => resolve({ status: res.statusCode, error: e.code ?? e.message }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

/** A WebSocket upgrade on `path`, closed at once when it succeeds. */
export function wsUpgrade(t: ProbeTarget, path: string): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const u = new URL(t.url);
    const options = { ...tlsOptions(t), headers: { ...t.headers }, handshakeTimeout: 10_000 } as WebSocket.ClientOptions;
    const ws = new WebSocket(`wss://${u.host}${path}`, options);
    ws.on("open", () => {
      ws.terminate();
      resolve({ upgraded: true, status: 101 });
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on("error", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    ws.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

/** Which component produced an answer: the body's `by` (our refusals), the ALB emulator's reason header, nginx's Server header. */
export function answeredBy(a: ProbeAnswer): string | undefined {
  try {
    const by = (JSON.parse(a.body ?? "") as { by?: unknown }).by;
    if (typeof by === "string") return by;
  } catch {
    // not one of our JSON refusals
  }
  if (a.headers?.["x-alb-emulator-reason"] !== undefined) return "alb";
  if (String(a.headers?.server ?? "").startsWith("nginx")) return "nginx";
  return undefined;
}

/** The reason a component gave: our JSON refusal's reason, the ALB's header, or the start of the body. */
export function reasonOf(a: ProbeAnswer): string | undefined {
  try {
    const reason = (JSON.parse(a.body ?? "") as { reason?: unknown }).reason;
    if (typeof reason === "string") return reason;
  } catch {
    // plain text
  }
  const alb = a.headers?.["x-alb-emulator-reason"];
  if (typeof alb === "string") return alb;
  return a.body?.replace(/\s+/g, " ").trim().slice(0, 200) || a.error;
}
