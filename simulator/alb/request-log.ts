import { headerValues, RequestHead } from "./http-head";
import { traceIdFor } from "./aws-ids";
import { FORWARDED_HEADERS } from "../../core/aws-headers";
import type { ConnectionInfo, ListenerContext } from "./listener-context";
import { accessLogLine } from "./log-lines";
import type { Decision } from "./rules";

/** One access-log entry for a request (or a WebSocket connection), from what the proxy path knows. */

export interface RequestOutcome {
  readonly type: "https" | "wss";
  readonly status: number;
  readonly targetStatus?: number;
  /** `ip:port` of the target, when one was involved. */
  readonly target?: string;
  readonly groupArn?: string;
  /** The X-Amzn-Trace-Id sent to the target; unset for answers the load balancer gave itself (one is made for the log). */
  readonly traceId?: string;
  readonly decision: Decision;
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** When the request head was complete. */
  readonly start: number;
  /** Processing times (undefined: -1 in the log). */
  readonly requestMs?: number;
  readonly targetMs?: number;
  readonly responseMs?: number;
}

export function logAccess(ctx: ListenerContext, req: RequestHead, conn: ConnectionInfo, o: RequestOutcome): void {
  const log = ctx.accessLog;
  if (!log) return;
  const now = Date.now();
  const host = req.host?.replace(/:\d+$/, "") ?? conn.servername ?? "-";
  log.write(
    accessLogLine({
      type: o.type,
      time: now,
      elb: ctx.elbId,
      client: conn.client,
      target: o.target,
      requestProcessingMs: o.requestMs,
      targetProcessingMs: o.targetMs,
      responseProcessingMs: o.responseMs,
      elbStatus: o.status,
      targetStatus: o.targetStatus,
      receivedBytes: o.receivedBytes,
      sentBytes: o.sentBytes,
      request: `${req.method} https://${host}:${ctx.model.port}${req.target} HTTP/1.${req.minor}`,
      userAgent: req.userAgent,
      sslCipher: conn.sslCipher,
      sslProtocol: conn.sslProtocol,
      targetGroupArn: o.groupArn,
      traceId: o.traceId ?? traceIdFor(headerValues(req, FORWARDED_HEADERS.traceId)[0], now),
      domainName: conn.domainName,
      chosenCertArn: conn.chosenCertArn,
      matchedRulePriority: o.decision.priority,
      requestCreationTime: o.start,
      actionsExecuted: o.decision.action.type,
      connTraceId: conn.connTraceId,
    }),
    now,
  );
}
