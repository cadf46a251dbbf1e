import type { DesyncVerdict } from "./desync-classifier";
import { headerValues } from "./http-head";
import { forwardedTraceId } from "./trace-header";
import { FORWARDED_HEADERS } from "../../core/aws-headers";
import type { ConnectionInfo, ListenerContext } from "./listener-context";
import { accessLogLine } from "./log-lines";
import type { RequestHead } from "./request-head";
import type { Decision, TransformedRequest } from "./rules";

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
  /** The request's desync classification. */
  readonly verdict?: DesyncVerdict;
  /** What the rule's transforms rewrote. */
  readonly transformed?: TransformedRequest;
}

/** What an access-log line reads of its client connection. */
export type LoggedConnection = Pick<ConnectionInfo, "client" | "servername" | "sslCipher" | "sslProtocol" | "domainName" | "chosenCertArn" | "connTraceId">;

/** A connection's log fields alone (not its mTLS header lines): what a held WebSocket keeps for its line. */
export function loggedConnection(i: ConnectionInfo): LoggedConnection {
  return { client: i.client, servername: i.servername, sslCipher: i.sslCipher, sslProtocol: i.sslProtocol, domainName: i.domainName, chosenCertArn: i.chosenCertArn, connTraceId: i.connTraceId };
}

/** A request head without its header lines, for a line whose trace id is already known (they are read for nothing else). */
export function loggedRequest(r: RequestHead): RequestHead {
  return { ...r, raw: [], lower: [] };
}

export function logAccess(ctx: ListenerContext, req: RequestHead, conn: LoggedConnection, o: RequestOutcome): void {
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
      // The load balancer's own answers get a trace id too, as the target would have.
      traceId: o.traceId ?? forwardedTraceId(headerValues(req, FORWARDED_HEADERS.traceId), now, req.size),
      domainName: conn.domainName,
      chosenCertArn: conn.chosenCertArn,
      matchedRulePriority: o.decision.priority,
      requestCreationTime: o.start,
      actionsExecuted: o.decision.action.type,
      classification: o.verdict?.reason ? o.verdict.classification : undefined,
      classificationReason: o.verdict?.reason,
      connTraceId: conn.connTraceId,
      transformedHost: o.transformed?.host,
      transformedUri: o.transformed?.target,
    }),
    now,
  );
}

export interface UnreadRequest {
  readonly status: number;
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** The request line, when one was received. */
  readonly requestLine?: string;
}

/**
 * The entry for a request the load balancer could not read (malformed, too large, too slow): no
 * target, no rule, the processing times -1 and the request fields `-` where AWS's format has no
 * value ("Access log entries": "If no action was taken, such as for a malformed request, this
 * value is set to -"; matched_rule_priority "For any other error, it is set to -").
 */
export function logUnreadRequest(ctx: ListenerContext, conn: ConnectionInfo, r: UnreadRequest): void {
  const log = ctx.accessLog;
  if (!log) return;
  const now = Date.now();
  const parts = /^(\S+) (\S+) (\S+)$/.exec(r.requestLine ?? "");
  log.write(
    accessLogLine({
      type: "https",
      time: now,
      elb: ctx.elbId,
      client: conn.client,
      elbStatus: r.status,
      receivedBytes: r.receivedBytes,
      sentBytes: r.sentBytes,
      request: parts ? `${parts[1]} https://${conn.servername ?? "-"}:${ctx.model.port}${parts[2]} ${parts[3]}` : "- - - ",
      sslCipher: conn.sslCipher,
      sslProtocol: conn.sslProtocol,
      traceId: "-",
      domainName: conn.servername,
      chosenCertArn: ctx.certificateArn,
      matchedRulePriority: "-",
      requestCreationTime: now,
      actionsExecuted: "-",
      connTraceId: conn.connTraceId,
    }),
    now,
  );
}
