import type { IncomingMessage, ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Refusal } from "../protocol/onboarding";
import type { StructuredLogger } from "./structured-log";
import { remoteOf, sendJson } from "./http-io";

/**
 * How the UMS and the ICG refuse: each refusal names its rule twice, in the response body (the
 * `Refusal` shape, with who refused) and in one structured log line.
 */

export interface RefusalSpec {
  readonly status: number;
  /** Short machine-readable code, e.g. `enrollment-key-used`. */
  readonly error: string;
  /** A sentence: which rule refused and why. Never holds key material. */
  readonly reason: string;
  /** Who refused: ums, icg. */
  readonly by: string;
  /** The device, when known. */
  readonly unitId?: string;
  readonly headers?: Record<string, string>;
}

export function refusalBody(spec: RefusalSpec): Refusal {
  return { error: spec.error, reason: spec.reason, by: spec.by };
}

function logRefusal(log: StructuredLogger, req: IncomingMessage, spec: RefusalSpec): void {
  const path = (req.url ?? "").split("?")[0];
  log.warn("refused", { status: spec.status, error: spec.error, reason: spec.reason, by: spec.by, method: req.method, path, ...remoteOf(req), unitId: spec.unitId });
}

export function refuse(log: StructuredLogger, req: IncomingMessage, res: ServerResponse, spec: RefusalSpec): void {
  logRefusal(log, req, spec);
  if (res.headersSent) return void res.destroy();
  sendJson(res, spec.status, refusalBody(spec), spec.headers);
}

/** A raw HTTP answer for a socket no request handler owns (a refused upgrade, a malformed request). */
export function rawRefusal(spec: Pick<RefusalSpec, "status" | "error" | "reason" | "by" | "headers">): string {
  const body = JSON.stringify(refusalBody({ ...spec }));
  const extra = Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? "Refused"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`;
}

/** Refuses a WebSocket upgrade with a plain HTTP answer on the raw socket, then closes it. */
export function refuseUpgrade(log: StructuredLogger, req: IncomingMessage, socket: Duplex, spec: RefusalSpec): void {
  logRefusal(log, req, spec);
  if (!socket.writable) return void socket.destroy();
  socket.end(rawRefusal(spec));
}
