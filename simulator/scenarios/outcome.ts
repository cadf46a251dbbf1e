/**
 * Outcomes in one vocabulary for the expected table and for what a flow observed, so that a
 * mismatch reads as a difference between two sentences.
 */

export type Component = "ums" | "nginx" | "alb" | "icg";

export type Outcome =
  /** It worked. */
  | { readonly kind: "ok" }
  /** Refused with an HTTP status by a component. */
  | { readonly kind: "http"; readonly by: Component; readonly status: number }
  /** Refused in the TLS handshake; for the ALB, with its connection-log status. */
  | { readonly kind: "tls"; readonly by: Component; readonly connectionLog?: string }
  /** The WebSocket was closed with a code. */
  | { readonly kind: "close"; readonly by: Component; readonly code: number }
  /** No TCP connection could be opened (security group / no route). */
  | { readonly kind: "blocked" }
  /** The feature is not offered there (documented). */
  | { readonly kind: "unsupported"; readonly by: Component }
  /** The scenario does not apply to the topology. */
  | { readonly kind: "n/a" };

const NAMES: Record<Component, string> = { ums: "the UMS", nginx: "nginx", alb: "the ALB", icg: "the ICG" };

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case "ok":
      return "ok";
    case "http":
      return `${o.status} from ${NAMES[o.by]}`;
    case "tls":
      return `refused in the TLS handshake by ${NAMES[o.by]}${o.connectionLog ? ` (${o.connectionLog})` : ""}`;
    case "close":
      return `closed by ${NAMES[o.by]} (code ${o.code})`;
    case "blocked":
      return "blocked: no connection";
    case "unsupported":
      return `not available through ${NAMES[o.by]}`;
    case "n/a":
      return "n/a";
  }
}

/** Does `actual` meet `expected`? Fields the expectation leaves out are not compared. */
export function meets(actual: Outcome, expected: Outcome): boolean {
  if (actual.kind !== expected.kind) return false;
  switch (expected.kind) {
    case "http":
      return actual.kind === "http" && actual.by === expected.by && actual.status === expected.status;
    case "tls":
      return actual.kind === "tls" && actual.by === expected.by && (expected.connectionLog === undefined || actual.connectionLog === expected.connectionLog);
    case "close":
      return actual.kind === "close" && actual.by === expected.by && actual.code === expected.code;
    case "unsupported":
      return actual.kind === "unsupported" && actual.by === expected.by;
    default:
      return true;
  }
}

// Shorthands for the expected-outcomes table.
export const ok: Outcome = { kind: "ok" };
export const na: Outcome = { kind: "n/a" };
export const blocked: Outcome = { kind: "blocked" };
export const http = (by: Component, status: number): Outcome => ({ kind: "http", by, status });
export const tls = (by: Component, connectionLog?: string): Outcome => ({ kind: "tls", by, connectionLog });
export const unsupported = (by: Component): Outcome => ({ kind: "unsupported", by });
export const close = (by: Component, code: number): Outcome => ({ kind: "close", by, code });
