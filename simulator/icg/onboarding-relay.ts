import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_ONBOARD_BODY_BYTES } from "../protocol/onboarding";
import type { StructuredLogger } from "../common/structured-log";
import { BodyTooLargeError, readBody, remoteOf } from "../common/http-io";
import { refuse } from "./refusals";
import { NO_UMS, TunnelTimeout, UmsTunnelHub } from "./ums-tunnel";

/**
 * `POST /device-connector/v1/onboard` at the ICG: a device without a certificate yet is relayed to
 * the UMS as one request/response over the tunnel; the UMS's answer (certificate, or a refusal
 * with `by: "ums"`) goes back unchanged. Nothing else is relayed as HTTP: the ICG exposes onboarding
 * and the device socket, not the UMS's API or web app.
 */

/** Request headers passed on: what the onboarding handler reads. Everything else stays at the ICG. */
const PASSED_REQUEST_HEADERS = ["content-type", "user-agent", "accept"];
/** Answer headers passed back; framing headers are the ICG's own. */
const PASSED_RESPONSE_HEADERS = ["content-type", "cache-control", "retry-after"];

export function onboardingRelay(deps: { readonly log: StructuredLogger; readonly hub: UmsTunnelHub }) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const started = performance.now();
    const { log, hub } = deps;
    if (!hub.ready) return refuse(log, req, res, { status: 503, error: "no-ums-connected", reason: NO_UMS, headers: { "retry-after": "5" } });
    let body: Buffer;
    try {
      body = await readBody(req, MAX_ONBOARD_BODY_BYTES);
    } catch (e) {
      if (e instanceof BodyTooLargeError) return refuse(log, req, res, { status: 413, error: "body-too-large", reason: `the onboarding request exceeds ${MAX_ONBOARD_BODY_BYTES} bytes; the ICG does not relay it` });
      throw e;
    }
    const { remote, forwardedFor } = remoteOf(req);
    const headers: Record<string, string> = {};
    for (const h of PASSED_REQUEST_HEADERS) {
      const v = req.headers[h];
      if (typeof v === "string") headers[h] = v;
    }
    const peer = req.socket.remoteAddress ?? remote.replace(/:[^:]*$/, "");
    headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${peer}` : peer;
    let answer;
    try {
      answer = await hub.request({ method: req.method ?? "POST", path, headers, body: body.toString("base64"), remote });
    } catch (e) {
      const timeout = e instanceof TunnelTimeout;
      return refuse(log, req, res, { status: timeout ? 504 : 503, error: timeout ? "ums-timeout" : "no-ums-connected", reason: `onboarding not relayed: ${(e as Error).message}` });
    }
    const out = Buffer.from(answer.body, "base64");
    const passed: Record<string, string> = {};
    for (const h of PASSED_RESPONSE_HEADERS) if (answer.headers[h] !== undefined) passed[h] = answer.headers[h];
    res.writeHead(answer.status, { ...passed, "content-length": out.length });
    res.end(out);
    log.info("onboarding-relayed", { status: answer.status, remote, forwardedFor, durationMs: Math.round((performance.now() - started) * 100) / 100 });
  };
}
