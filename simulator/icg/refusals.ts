import { STATUS_CODES, IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Refusal } from "../protocol/onboarding";
import type { StructuredLogger } from "../protocol/structured-log";
import { remoteOf, sendJson } from "./http-io";

/**
 * Every refusal the ICG hands a device or a UMS goes through here, so each names its rule twice: in
 * the response body (the `Refusal` shape, `by: "icg"`) and in one structured log line. A refusal
 * the UMS made behind the tunnel keeps `by: "ums"`: the ICG only carries it.
 */

export interface RefusalSpec {
  readonly status: number;
  /** Short machine-readable code, e.g. `no-ums-connected`. */
  readonly error: string;
  /** A sentence: which rule refused and why. Never holds key material. */
  readonly reason: string;
  /** The device, when known. */
  readonly unitId?: string;
  /** Who refused. @default "icg" */
  readonly by?: string;
  readonly headers?: Record<string, string>;
}

export function refusalBody(spec: RefusalSpec): Refusal {
  return { error: spec.error, reason: spec.reason, by: spec.by ?? "icg" };
}

function logRefusal(log: StructuredLogger, req: IncomingMessage, spec: RefusalSpec): void {
  const path = (req.url ?? "").split("?")[0];
  log.warn("refused", { status: spec.status, error: spec.error, reason: spec.reason, by: spec.by ?? "icg", method: req.method, path, ...remoteOf(req), unitId: spec.unitId });
}

export function refuse(log: StructuredLogger, req: IncomingMessage, res: ServerResponse, spec: RefusalSpec): void {
  logRefusal(log, req, spec);
  if (res.headersSent) return void res.destroy();
  sendJson(res, spec.status, refusalBody(spec), spec.headers);
}

/** Refuses a WebSocket upgrade with a plain HTTP answer on the raw socket, then closes it. */
export function refuseUpgrade(log: StructuredLogger, req: IncomingMessage, socket: Duplex, spec: RefusalSpec): void {
  logRefusal(log, req, spec);
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(refusalBody(spec));
  const extra = Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(
    `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? "Refused"}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}
