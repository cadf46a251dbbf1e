import type { Refusal } from "../protocol/onboarding";

/**
 * How a device was turned away, exactly as it saw it: a failed TLS handshake, an HTTP status
 * with the refusing component's reason, a WebSocket close code, or a network error.
 */

export type RefusalStage = "onboard" | "connect" | "session" | "download";
export type RefusalKind = "tls" | "http" | "close" | "network" | "protocol";

export interface DeviceRefusal {
  readonly stage: RefusalStage;
  readonly kind: RefusalKind;
  /** ISO time. */
  readonly at: string;
  /** kind http: the status. */
  readonly status?: number;
  /** kind close: the WebSocket close code. */
  readonly closeCode?: number;
  /** The Refusal body's `error`, or Node's error code (e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED). */
  readonly error?: string;
  /** The Refusal body's `reason`, the close reason, or the error message. */
  readonly reason: string;
  /** Which component refused (from the Refusal body): ums, icg, alb, proxy. */
  readonly by?: string;
}

/** One line for logs and reports. */
export function describeRefusal(r: DeviceRefusal): string {
  const what = r.kind === "http" ? `HTTP ${r.status}` : r.kind === "close" ? `close ${r.closeCode}` : r.kind === "tls" ? "TLS" : r.kind;
  return `${r.stage}: ${what}${r.by ? ` by ${r.by}` : ""}${r.error ? ` [${r.error}]` : ""}: ${r.reason}`;
}

/** Parses a refusal body; anything else becomes its first 300 characters. */
export function refusalFromHttp(stage: RefusalStage, status: number, body: string): DeviceRefusal {
  let parsed: Partial<Refusal> | undefined;
  try {
    const v = JSON.parse(body) as unknown;
    if (v && typeof v === "object") parsed = v as Partial<Refusal>;
  } catch {
    parsed = undefined;
  }
  return {
    stage,
    kind: "http",
    at: new Date().toISOString(),
    status,
    error: typeof parsed?.error === "string" ? parsed.error : undefined,
    reason: typeof parsed?.reason === "string" ? parsed.reason : body.trim().slice(0, 300) || "(empty body)",
    by: typeof parsed?.by === "string" ? parsed.by : undefined,
  };
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EADDRNOTAVAIL"]);
const RESET = /^(ECONNRESET|EPIPE)$|socket hang up|disconnected before secure/i;

/** What the client knew about its connection when it failed. */
export interface ConnectionFacts {
  /** The TLS handshake had completed from the client's side. */
  readonly tlsEstablished: boolean;
  /** e.g. `TLSv1.3`, once established. */
  readonly tlsProtocol?: string;
  /** The client offered a certificate. */
  readonly clientCertSent: boolean;
  /** Any HTTP answer had started to arrive. */
  readonly answered: boolean;
}

/**
 * A Node error as a refusal. In TLS 1.3 the client finishes its handshake before the server has
 * checked the client certificate, so a server that refuses the certificate shows up as an alert
 * or, when the reset wins the race, as a bare ECONNRESET right after the handshake. A reset then,
 * before any HTTP answer, is therefore reported as a TLS refusal: of the certificate offered, or of
 * the missing one when the server requires one (an ALB in verify mode).
 */
export function refusalFromError(stage: RefusalStage, err: NodeJS.ErrnoException, facts: ConnectionFacts): DeviceRefusal {
  const code = err.code ?? "";
  const at = new Date().toISOString();
  if (/SSL|TLS|CERT|alert/i.test(`${code} ${err.message}`)) return { stage, kind: "tls", at, error: code || undefined, reason: err.message };
  if (NETWORK_CODES.has(code)) return { stage, kind: "network", at, error: code, reason: err.message };
  const reset = RESET.test(code) || RESET.test(err.message);
  if (reset && !facts.tlsEstablished) {
    return { stage, kind: "tls", at, error: code || undefined, reason: `${err.message} during the TLS handshake` };
  }
  if (reset && !facts.answered && facts.tlsProtocol === "TLSv1.3") {
    const what = facts.clientCertSent ? "refused the client certificate" : "requires a client certificate and none was sent";
    return {
      stage,
      kind: "tls",
      at,
      error: code || undefined,
      reason: `${err.message} right after the TLS 1.3 handshake, before any HTTP answer: the server most likely ${what} (TLS 1.3 reports that after the client's handshake completes)`,
    };
  }
  return { stage, kind: "network", at, error: code || undefined, reason: err.message };
}
