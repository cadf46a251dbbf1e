import * as http from "node:http";
import * as https from "node:https";
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";
import { forwardedHeaders } from "./forwarding";
import { accessLogLine } from "./log-lines";
import { errorAnswer, LbAnswer, sendRawAnswer } from "./responses";
import { connectionOf, route } from "./proxy-http";
import type { ListenerContext } from "./listener-context";

/**
 * WebSocket upgrades: the request goes through the rules like any other; the target's 101 is
 * relayed and from then on bytes are piped both ways without being parsed. Logged as `wss` when
 * the connection closes, as AWS does.
 */

function rawHead(statusCode: number, statusMessage: string | undefined, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage ?? STATUS_CODES[statusCode] ?? ""}\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

export function proxyUpgrade(ctx: ListenerContext, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const conn = connectionOf(req);
  const start = Date.now();
  const { decision, picked, answer: own } = route(ctx, req);
  let received = head.length;
  let sent = 0;
  let targetStatus: number | undefined;
  let target: string | undefined;
  let traceId = "-";
  const groupArn = decision.action.type === "forward" ? ctx.targetGroupArns.get(decision.action.targetGroup) : undefined;
  let logged = false;
  const log = (status: number, type: "https" | "wss") => {
    if (logged || !ctx.accessLog) return;
    logged = true;
    const now = Date.now();
    ctx.accessLog.write(
      accessLogLine({
        type,
        time: now,
        elb: ctx.elbId,
        client: conn.client,
        target,
        requestProcessingMs: target ? 0 : undefined,
        targetProcessingMs: target && targetStatus !== undefined ? 0 : undefined,
        responseProcessingMs: target && targetStatus !== undefined ? 0 : undefined,
        elbStatus: status,
        targetStatus,
        receivedBytes: received,
        sentBytes: sent,
        request: `${req.method} https://${req.headers.host?.replace(/:\d+$/, "") ?? "-"}:${ctx.model.port}${req.url} HTTP/${req.httpVersion}`,
        userAgent: req.headers["user-agent"],
        sslCipher: conn.sslCipher,
        sslProtocol: conn.sslProtocol,
        targetGroupArn: groupArn,
        traceId,
        domainName: conn.servername,
        chosenCertArn: ctx.certificateArn,
        matchedRulePriority: decision.priority,
        requestCreationTime: start,
        actionsExecuted: decision.action.type,
        connTraceId: conn.connTraceId,
      }),
      now,
    );
  };
  const refuse = (a: LbAnswer) => {
    sent = sendRawAnswer(socket, a);
    if (a.status >= 400) {
      ctx.emit({ kind: "request-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: conn.client, method: req.method ?? "-", url: req.url ?? "-", status: a.status, decidedBy: decision.decidedBy, reason: a.explanation });
    }
    log(a.status, "https");
  };
  if (own) return refuse(own);

  const t = picked!.target;
  target = `${t.host}:${t.port}`;
  const group = ctx.pools.get((decision.action as { targetGroup: string }).targetGroup)!.group;
  const fwd = forwardedHeaders(req.rawHeaders, { clientIp: conn.clientIp, listenerPort: ctx.model.port, mtlsHeaderNames: ctx.mtlsHeaderNames, mtlsHeaders: conn.mtlsHeaders, upgrade: true }, start);
  traceId = fwd.traceId;
  const tls = group.protocol === "HTTPS";
  const upstream = (tls ? https : http).request({
    host: t.host,
    port: t.port,
    method: req.method,
    path: req.url,
    headers: fwd.headers as unknown as http.OutgoingHttpHeaders,
    agent: false, // an upgraded connection is never returned to a pool
    rejectUnauthorized: false,
  });
  let settled = false;
  const fail = (status: 502 | 504, why: string) => {
    if (settled) return;
    settled = true;
    upstream.destroy();
    refuse(errorAnswer(status, `${decision.explanation}; target ${target} ${why}`));
  };
  upstream.setTimeout(ctx.targetTimeoutMs, () => fail(504, `sent no response within ${ctx.targetTimeoutMs} ms`));
  upstream.on("error", (e: NodeJS.ErrnoException) => fail(502, e.code === "ECONNREFUSED" ? "refused the connection" : `closed the connection before answering (${e.code ?? e.message})`));
  socket.on("error", () => upstream.destroy());

  upstream.on("upgrade", (res, upSocket, upHead) => {
    settled = true;
    upstream.setTimeout(0);
    targetStatus = res.statusCode;
    const headBuf = Buffer.from(rawHead(res.statusCode ?? 101, res.statusMessage, res.rawHeaders));
    sent += headBuf.length + upHead.length;
    socket.write(headBuf);
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    if (ctx.accessLog) {
      upSocket.on("data", (c: Buffer) => (sent += c.length));
      socket.on("data", (c: Buffer) => (received += c.length));
    }
    upSocket.pipe(socket);
    socket.pipe(upSocket);
    for (const s of [socket, upSocket] as Duplex[]) {
      (s as Duplex & { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(ctx.idleTimeoutMs, () => s.destroy());
    }
    const close = () => {
      socket.destroy();
      upSocket.destroy();
      log(res.statusCode ?? 101, "wss");
    };
    socket.once("close", close);
    upSocket.once("close", close);
    upSocket.on("error", () => socket.destroy());
    socket.on("error", () => upSocket.destroy());
  });

  upstream.on("response", (res) => {
    // The target declined the upgrade: relay its answer as a normal response.
    settled = true;
    targetStatus = res.statusCode;
    const headBuf = Buffer.from(rawHead(res.statusCode ?? 502, res.statusMessage, [...res.rawHeaders.filter((_, i, a) => !/^(connection|transfer-encoding|keep-alive)$/i.test(i % 2 ? a[i - 1] : a[i])), "Connection", "close"]));
    socket.write(headBuf);
    sent += headBuf.length;
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => {
      const body = Buffer.concat(chunks);
      // The relayed head has no framing header of its own; close delimits the body.
      socket.end(body);
      sent += body.length;
      log(res.statusCode ?? 502, "https");
    });
  });
  upstream.end();
}
