import type { Framing } from "./body-framing";
import type { ClientConnection, ClientExchange } from "./client-connection";
import type { DesyncVerdict } from "./desync-classifier";
import { clientResponseHead, ForwardedHead, forwardedRequestHead, switchingHead } from "./forwarding";
import type { ResponseHead } from "./http-head";
import type { ListenerContext } from "./listener-context";
import { failureAnswer, requestFacts, route } from "./proxy-http";
import { admitRequest } from "./request-admission";
import type { RequestHead } from "./request-head";
import { logAccess, LoggedConnection, loggedConnection, loggedRequest } from "./request-log";
import { answerBytes, errorAnswer, LbAnswer } from "./responses";
import { applyTransforms, Decision, TransformedRequest } from "./rules";
import type { TargetConnection, TargetExchange, TargetFailure } from "./target-connection";
import type { PickedTarget } from "./target-pool";
import { tunnel } from "./tunnel";

/**
 * Upgrade requests (WebSocket): the request goes through the rules like any other, to the target
 * on a connection of its own with Connection/Upgrade kept; the target's 101 is relayed and from
 * then on bytes flow both ways unparsed, logged as `wss` when the connection closes, as AWS does.
 * A target that declines the upgrade has its answer relayed, and the connection closes after it.
 */
export class UpgradeExchange implements ClientExchange, TargetExchange {
  private readonly ctx: ListenerContext;
  private readonly startedAt = Date.now();
  private decision!: Decision;
  private verdict: DesyncVerdict | undefined;
  private transformed: TransformedRequest | undefined;
  private picked: PickedTarget | undefined;
  private up: TargetConnection | null = null;
  private forwarded: ForwardedHead | undefined;
  private targetStatus: number | undefined;
  private received: number;
  private sent = 0;
  private responseStarted = false;
  private done = false;

  constructor(
    private readonly conn: ClientConnection,
    private readonly req: RequestHead,
    /** Bytes the client sent after the head: the new protocol's, relayed after the switch. */
    private readonly early: Buffer | null,
  ) {
    this.ctx = conn.ctx;
    this.received = req.size + (early?.length ?? 0);
  }

  start(): void {
    const admission = admitRequest(this.req, this.ctx.desyncMode);
    this.verdict = admission.verdict;
    if (admission.answer) {
      this.decision = this.ctx.rules.evaluate(requestFacts(this.req));
      return this.answer(admission.answer);
    }
    if (this.req.method === "CONNECT") {
      this.decision = this.ctx.rules.evaluate(requestFacts(this.req));
      return this.answer(errorAnswer(400, "CONNECT is not supported by an Application Load Balancer"));
    }
    const r = route(this.ctx, requestFacts(this.req));
    this.decision = r.decision;
    if (r.answer) return this.answer(r.answer);
    this.picked = r.picked;
    this.transformed = applyTransforms(r.decision.transforms, this.req.target.trim(), this.req.host);
    const t = r.picked!.target;
    const tls = this.ctx.pools.get((this.decision.action as { targetGroup: string }).targetGroup)!.group.protocol === "HTTPS";
    // An upgraded connection never goes back to a pool.
    this.up = this.ctx.targets.fresh(t.host, t.port, tls);
    this.forwarded = forwardedRequestHead(this.req, this.conn.info, { nowMs: this.startedAt, hostFallback: `${t.host}:${t.port}`, upgrade: true, target: this.transformed?.target, host: this.transformed?.host });
    this.up.send(this, this.forwarded.bytes, this.req.method, true, true);
  }

  onSwitch(head: ResponseHead, rest: Buffer | undefined): void {
    const up = this.up!;
    this.up = null;
    this.done = true;
    this.targetStatus = head.status;
    const text = switchingHead(head);
    const target = up.takeSocket();
    const { socket, rest: late } = this.conn.takeSocket();
    socket.write(rest === undefined ? Buffer.from(text, "latin1") : Buffer.concat([Buffer.from(text, "latin1"), rest]));
    this.sent += text.length + (rest?.length ?? 0);
    if (this.early !== null) target.write(this.early);
    if (late !== null) {
      this.received += late.length;
      target.write(late);
    }
    const switchedAt = Date.now();
    const ctx = this.ctx;
    const client = this.conn.info.client;
    // The tunnel holds its callbacks for as long as the session is held: the log line's writer and
    // the idle event's few fields alone, not this exchange with its connection's mTLS header lines,
    // request parser and forwarded head.
    tunnel(
      socket,
      target,
      ctx.idleTimeoutMs,
      this.logWriter(head.status, "wss", true),
      // AWS, "Load balancer attributes" > "Connection idle timeout": closed when no data was sent or received for the idle timeout.
      () =>
        ctx.emit({
          kind: "idle-timeout",
          time: new Date().toISOString(),
          listenerPort: ctx.model.port,
          client,
          idleTimeoutMs: ctx.idleTimeoutMs,
          heldMs: Date.now() - switchedAt,
          reason: `no data either way for the idle timeout (${ctx.idleTimeoutMs} ms)`,
        }),
    );
  }

  onResponse(head: ResponseHead, _framing: Framing, body: Buffer | undefined, complete: boolean): void {
    // The target declined the upgrade: its answer is relayed and the connection closes after it.
    this.targetStatus = head.status;
    this.responseStarted = true;
    const text = clientResponseHead(head, { close: true, keepAlive10: false, chunk: false });
    this.sent += text.length + (body?.length ?? 0);
    this.conn.write(body === undefined ? Buffer.from(text, "latin1") : Buffer.concat([Buffer.from(text, "latin1"), body]));
    if (complete) this.complete();
  }

  onResponseBody(chunk: Buffer, complete: boolean): void {
    this.sent += chunk.length;
    if (chunk.length > 0) this.conn.write(chunk);
    if (complete) this.complete();
  }

  onInterim(): void {
    // Nothing but 101 or a final answer makes sense to a client waiting for a switch.
  }

  onTargetFailure(failure: TargetFailure, detail: string): void {
    this.up = null;
    if (this.done) return;
    if (this.responseStarted) {
      this.done = true;
      this.conn.destroy();
      return;
    }
    const t = this.picked!.target;
    this.answer(failureAnswer(this.ctx, this.decision, `${t.host}:${t.port}`, this.picked!.failOpen, failure, detail));
  }

  onRequestBody(): boolean {
    return true; // an upgrade request's following bytes are not a body
  }

  onRequestEnd(): void {}

  onRequestBodyError(): void {}

  onClientTimeout(): void {}

  onTargetDrain(): void {}

  onClientDrain(): void {}

  onClientGone(): void {
    this.done = true;
    this.up?.destroy();
    this.up = null;
  }

  private complete(): void {
    this.done = true;
    this.up = null;
    this.log(this.targetStatus!, "https");
    this.conn.responseDone(true);
  }

  private answer(a: LbAnswer): void {
    this.done = true;
    const bytes = answerBytes(a, { close: true, keepAlive10: false, headOnly: this.req.method === "HEAD" });
    this.sent += bytes.length;
    this.conn.write(bytes);
    if (a.status >= 400) {
      const ctx = this.ctx;
      ctx.emit({ kind: "request-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: this.conn.info.client, method: this.req.method, url: this.req.target, status: a.status, decidedBy: this.decision.decidedBy, reason: a.explanation });
    }
    this.log(a.status, "https");
    this.conn.responseDone(true);
  }

  private log(status: number, type: "https" | "wss"): void {
    this.logWriter(status, type, false)(0, 0);
  }

  /**
   * Writes the access-log line once called with the bytes relayed since; holds only what the line
   * reads (`light`: the request head without its header lines and the connection's log fields, for a
   * held WebSocket, where the trace id was sent to the target and no header is read again).
   */
  private logWriter(status: number, type: "https" | "wss", light: boolean): (received: number, sent: number) => void {
    const { ctx, decision, verdict, transformed, targetStatus, startedAt: start } = this;
    const req = light ? loggedRequest(this.req) : this.req;
    const conn: LoggedConnection = light ? loggedConnection(this.conn.info) : this.conn.info;
    const action = decision.action;
    const target = this.picked ? `${this.picked.target.host}:${this.picked.target.port}` : undefined;
    const answered = targetStatus !== undefined;
    const groupArn = action.type === "forward" ? ctx.targetGroupArns.get(action.targetGroup) : undefined;
    const traceId = this.forwarded?.traceId;
    const before = { received: this.received, sent: this.sent };
    return (received, sent) =>
      logAccess(ctx, req, conn, {
        type,
        status,
        targetStatus,
        target,
        groupArn,
        traceId,
        decision,
        receivedBytes: before.received + received,
        sentBytes: before.sent + sent,
        start,
        requestMs: target ? 0 : undefined,
        targetMs: target && answered ? 0 : undefined,
        responseMs: target && answered ? 0 : undefined,
        verdict,
        transformed,
      });
  }
}
