import * as http from "node:http";
import * as https from "node:https";
import { forwardedHeaders, responseHeaders } from "./forwarding";
import { accessLogLine } from "./log-lines";
import { errorAnswer, LbAnswer, sendAnswer } from "./responses";
import type { Decision } from "./rules";
import { CONNECTION_INFO, ConnectionInfo, ListenerContext, SocketWithInfo } from "./listener-context";
import type { PickedTarget } from "./target-pool";

/**
 * One HTTP request through a listener: rules, then a fixed response or a target (keep-alive
 * connections to the targets are reused), with AWS's 502/503/504 when the target cannot answer.
 */

const UNKNOWN_CONNECTION: ConnectionInfo = { connTraceId: "-", clientIp: "-", client: "-", mtlsHeaders: [], sslCipher: "-", sslProtocol: "-" };

export function connectionOf(req: http.IncomingMessage): ConnectionInfo {
  return (req.socket as unknown as SocketWithInfo)[CONNECTION_INFO] ?? UNKNOWN_CONNECTION;
}

/** Bytes of the request head as received (for received_bytes; approximate). */
function headBytes(req: http.IncomingMessage): number {
  let n = req.method!.length + req.url!.length + 14;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i++) n += raw[i].length + 2;
  return n;
}

interface Timing {
  readonly start: number;
  sent?: number;
  firstByte?: number;
}

function logRequest(ctx: ListenerContext, req: http.IncomingMessage, conn: ConnectionInfo, t: Timing, p: {
  status: number;
  targetStatus?: number;
  target?: string;
  groupArn?: string;
  traceId: string;
  decision: Decision;
  received: number;
  sent: number;
  type?: "https" | "wss";
  /** The load balancer could not dispatch the request to a target (503): timings are -1. */
  undispatched?: boolean;
}): void {
  const log = ctx.accessLog;
  if (!log) return;
  const now = Date.now();
  const host = req.headers.host?.replace(/:\d+$/, "") ?? conn.servername ?? "-";
  log.write(
    accessLogLine({
      type: p.type ?? "https",
      time: now,
      elb: ctx.elbId,
      client: conn.client,
      target: p.target,
      requestProcessingMs: p.undispatched ? undefined : p.target && t.sent !== undefined ? t.sent - t.start : p.target ? undefined : 0,
      targetProcessingMs: p.undispatched ? undefined : p.target && t.firstByte !== undefined && t.sent !== undefined ? t.firstByte - t.sent : p.target ? undefined : 0,
      responseProcessingMs: p.undispatched || (p.target && t.firstByte === undefined) ? undefined : 0,
      elbStatus: p.status,
      targetStatus: p.targetStatus,
      receivedBytes: p.received,
      sentBytes: p.sent,
      request: `${req.method} https://${host}:${ctx.model.port}${req.url} HTTP/${req.httpVersion}`,
      userAgent: req.headers["user-agent"],
      sslCipher: conn.sslCipher,
      sslProtocol: conn.sslProtocol,
      targetGroupArn: p.groupArn,
      traceId: p.traceId,
      domainName: conn.servername,
      chosenCertArn: ctx.certificateArn,
      matchedRulePriority: p.decision.priority,
      requestCreationTime: t.start,
      actionsExecuted: p.decision.action.type,
      connTraceId: conn.connTraceId,
    }),
    now,
  );
}

/** Answers from the load balancer itself, logged and explained. */
export function answer(ctx: ListenerContext, req: http.IncomingMessage, res: http.ServerResponse, conn: ConnectionInfo, t: Timing, decision: Decision, a: LbAnswer, extra: { target?: string; groupArn?: string; traceId?: string } = {}): void {
  const sent = sendAnswer(res, a);
  if (a.status >= 400) {
    ctx.emit({ kind: "request-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: conn.client, method: req.method ?? "-", url: req.url ?? "-", status: a.status, decidedBy: decision.decidedBy, reason: a.explanation });
  }
  if (ctx.accessLog) {
    logRequest(ctx, req, conn, t, { status: a.status, traceId: extra.traceId ?? "-", decision, received: headBytes(req), sent, target: extra.target, groupArn: extra.groupArn, undispatched: a.status === 503 });
  }
}

/** Decides and picks a target; answers itself when there is nothing to forward to. */
export function route(ctx: ListenerContext, req: http.IncomingMessage): { decision: Decision; picked?: PickedTarget; answer?: LbAnswer } {
  const decision = ctx.rules.evaluate({ method: req.method ?? "GET", url: req.url ?? "/", host: req.headers.host, headers: req.headers });
  const action = decision.action;
  if (action.type === "fixed-response") {
    return { decision, answer: { status: action.statusCode, contentType: action.contentType, body: action.messageBody, explanation: decision.explanation } };
  }
  const pool = ctx.pools.get(action.targetGroup)!;
  const picked = pool.pick();
  if (!picked) return { decision, answer: errorAnswer(503, `${decision.explanation}; ${action.targetGroup} has no registered target`) };
  return { decision, picked };
}

export function proxyRequest(ctx: ListenerContext, req: http.IncomingMessage, res: http.ServerResponse, retry = false): void {
  const conn = connectionOf(req);
  const t: Timing = { start: Date.now() };
  const { decision, picked, answer: own } = route(ctx, req);
  if (own) return answer(ctx, req, res, conn, t, decision, own);
  forward(ctx, req, res, conn, t, decision, picked!, retry);
}

function forward(ctx: ListenerContext, req: http.IncomingMessage, res: http.ServerResponse, conn: ConnectionInfo, t: Timing, decision: Decision, picked: PickedTarget, retried: boolean): void {
  const target = picked.target;
  const groupAddress = (decision.action as { targetGroup: string }).targetGroup;
  const group = ctx.pools.get(groupAddress)!.group;
  const targetName = `${target.host}:${target.port}`;
  const fwd = forwardedHeaders(req.rawHeaders, { clientIp: conn.clientIp, listenerPort: ctx.model.port, mtlsHeaderNames: ctx.mtlsHeaderNames, mtlsHeaders: conn.mtlsHeaders }, t.start);
  const tls = group.protocol === "HTTPS";
  const options: https.RequestOptions = {
    host: target.host,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: fwd.headers as unknown as http.OutgoingHttpHeaders,
    agent: tls ? ctx.agents.https : ctx.agents.http,
  };
  const upstream = (tls ? https : http).request(options);
  let received = ctx.accessLog ? headBytes(req) : 0;
  let sentBody = 0;
  let done = false;
  const groupArn = ctx.targetGroupArns.get(groupAddress);

  const fail = (status: 502 | 504, why: string) => {
    if (done) return;
    done = true;
    upstream.destroy();
    if (res.headersSent) {
      res.destroy(); // the target failed mid-response: the client's connection is cut, as the ALB does
      return;
    }
    const open = picked.failOpen ? " (no target was healthy: the load balancer failed open)" : "";
    answer(ctx, req, res, conn, t, decision, errorAnswer(status, `${decision.explanation}; target ${targetName}${open} ${why}`), { target: targetName, groupArn, traceId: fwd.traceId });
  };

  upstream.setTimeout(ctx.targetTimeoutMs, () => fail(504, `sent no response within ${ctx.targetTimeoutMs} ms`));
  upstream.on("socket", (s) => {
    if (!s.connecting) return;
    const timer = setTimeout(() => fail(504, `did not accept the connection within ${ctx.connectTimeoutMs} ms`), ctx.connectTimeoutMs);
    s.once("connect", () => clearTimeout(timer));
    s.once("close", () => clearTimeout(timer));
  });
  upstream.on("error", (e: NodeJS.ErrnoException) => {
    if (done) return;
    const bodyless = req.readableEnded || req.headers["content-length"] === undefined;
    // A kept-alive connection the target had closed: try once more on a new one, as a client would.
    if (!retried && upstream.reusedSocket && bodyless && !res.headersSent && (e.code === "ECONNRESET" || e.code === "EPIPE")) {
      done = true;
      forward(ctx, req, res, conn, t, decision, picked, true);
      return;
    }
    fail(502, e.code === "ECONNREFUSED" ? "refused the connection" : `closed the connection before answering (${e.code ?? e.message})`);
  });
  upstream.on("response", (up) => {
    t.firstByte = Date.now();
    res.writeHead(up.statusCode ?? 502, up.statusMessage, responseHeaders(up.rawHeaders));
    if (ctx.accessLog) up.on("data", (chunk: Buffer) => (sentBody += chunk.length));
    up.pipe(res);
    up.on("end", () => {
      if (done) return;
      done = true;
      if (ctx.accessLog) {
        let head = 17;
        for (const h of up.rawHeaders) head += h.length + 2;
        logRequest(ctx, req, conn, t, { status: up.statusCode ?? 502, targetStatus: up.statusCode, target: targetName, groupArn, traceId: fwd.traceId, decision, received, sent: head + sentBody });
      }
    });
    up.on("error", () => res.destroy());
  });
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy(); // the client went away
  });

  t.sent = Date.now();
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) {
    upstream.end();
  } else {
    if (ctx.accessLog) req.on("data", (chunk: Buffer) => (received += chunk.length));
    req.pipe(upstream);
  }
}
