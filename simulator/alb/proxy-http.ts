import { asChunk, Framing, LAST_CHUNK } from "./body-framing";
import type { ClientConnection, ClientExchange } from "./client-connection";
import { clientResponseHead, ForwardedHead, forwardedRequestHead } from "./forwarding";
import { headerValues, RequestHead, ResponseHead } from "./http-head";
import type { ListenerContext } from "./listener-context";
import { logAccess } from "./request-log";
import { answerBytes, errorAnswer, LbAnswer } from "./responses";
import type { Decision, RequestFacts } from "./rules";
import type { TargetConnection, TargetExchange, TargetFailure } from "./target-connection";
import type { PickedTarget } from "./target-pool";

/**
 * One HTTP request through a listener: rules, then a fixed response or a target, with AWS's
 * 502/503/504 when the target cannot answer. The request head goes to the target rewritten (one
 * write), the body and the response stream through unchanged; the response head is rewritten
 * (hop-by-hop headers) and sent with the first body bytes in one write.
 */

/** Where a request goes: decided by the rules, a target picked from the group. */
export interface Route {
  readonly decision: Decision;
  readonly picked?: PickedTarget;
  readonly answer?: LbAnswer;
}

export function route(ctx: ListenerContext, facts: RequestFacts): Route {
  const decision = ctx.rules.evaluate(facts);
  const action = decision.action;
  if (action.type === "fixed-response") {
    return { decision, answer: { status: action.statusCode, contentType: action.contentType, body: action.messageBody, explanation: decision.explanation } };
  }
  const picked = ctx.pools.get(action.targetGroup)!.pick();
  if (!picked) return { decision, answer: errorAnswer(503, `${decision.explanation}; ${action.targetGroup} has no registered target`) };
  return { decision, picked };
}

/** What the rules see of a request head. */
export function requestFacts(req: RequestHead): RequestFacts {
  return { method: req.method, url: req.target, host: req.host, header: (name) => headerValues(req, name) };
}

/** The 502/504 words for a target failure. */
export function failureAnswer(ctx: ListenerContext, decision: Decision, targetName: string, failOpen: boolean, failure: TargetFailure, detail: string): LbAnswer {
  const open = failOpen ? " (no target was healthy: the load balancer failed open)" : "";
  const why = failure === "timeout" ? `sent no response within ${ctx.targetTimeoutMs} ms` : detail;
  return errorAnswer(failure === "timeout" || failure === "connect-timeout" ? 504 : 502, `${decision.explanation}; target ${targetName}${open} ${why}`);
}

export class HttpExchange implements ClientExchange, TargetExchange, RequestFacts {
  private readonly ctx: ListenerContext;
  private readonly startedAt = Date.now();
  private decision!: Decision;
  private picked: PickedTarget | undefined;
  private up: TargetConnection | null = null;
  private forwarded: ForwardedHead | undefined;
  private sentAt: number | undefined;
  private firstByteAt: number | undefined;
  private received: number;
  private sent = 0;
  private targetStatus: number | undefined;
  private responseStarted = false;
  private rechunk = false;
  private closeAfter = false;
  private retried = false;
  private done = false;
  /** The whole request body has been received. */
  private requestComplete: boolean;
  /** An interim 100 Continue went to the client. */
  private continued = false;

  constructor(
    private readonly conn: ClientConnection,
    private readonly req: RequestHead,
    private readonly bodyless: boolean,
  ) {
    this.ctx = conn.ctx;
    this.received = req.size;
    this.requestComplete = bodyless;
  }

  // RequestFacts, for the rules.
  get method(): string {
    return this.req.method;
  }
  get url(): string {
    return this.req.target;
  }
  get host(): string | undefined {
    return this.req.host;
  }
  header(name: string): readonly string[] {
    return headerValues(this.req, name);
  }

  start(): void {
    const r = route(this.ctx, this);
    this.decision = r.decision;
    if (r.answer) return this.answer(r.answer, r.answer.status === 503);
    this.picked = r.picked;
    this.forward(false);
  }

  private get targetName(): string {
    const t = this.picked!.target;
    return `${t.host}:${t.port}`;
  }

  private forward(fresh: boolean): void {
    const t = this.picked!.target;
    const tls = this.ctx.pools.get((this.decision.action as { targetGroup: string }).targetGroup)!.group.protocol === "HTTPS";
    this.up = fresh ? this.ctx.targets.fresh(t.host, t.port, tls) : this.ctx.targets.acquire(t.host, t.port, tls);
    this.forwarded ??= forwardedRequestHead(this.req, this.conn.info, this.startedAt, `${t.host}:${t.port}`);
    this.sentAt = Date.now();
    this.up.send(this, this.forwarded.bytes, this.req.method, this.bodyless);
  }

  onRequestBody(chunk: Buffer): boolean {
    this.received += chunk.length;
    if (this.up === null) return true; // answered already: the body is read and dropped
    return this.up.writeBody(chunk);
  }

  onRequestEnd(): void {
    this.requestComplete = true;
    this.up?.endBody();
  }

  /**
   * Whether the connection can carry another request after a final answer sent now. Not when the
   * client was told to wait for 100 Continue and has not sent its body: it may never send it, and
   * its next request would be read as that body (RFC 9110 10.1.1).
   */
  private reusableAfterAnswer(): boolean {
    return this.req.keepAlive && (this.requestComplete || !this.req.expectContinue || this.continued);
  }

  onTargetDrain(): void {
    this.conn.resumeReading();
  }

  onClientDrain(): void {
    if (this.up !== null && this.up.socket.isPaused()) this.up.socket.resume();
  }

  onClientGone(): void {
    // The client went away: so does the request to the target.
    this.done = true;
    this.up?.destroy();
    this.up = null;
  }

  onInterim(head: ResponseHead): void {
    // 100 Continue, 103 Early Hints; never to an HTTP/1.0 client (RFC 9110 15.2).
    if (this.req.minor === 0 || this.done) return;
    const text = clientResponseHead(head, { close: false, keepAlive10: false, chunk: false });
    if (head.status === 100) this.continued = true;
    this.sent += text.length;
    this.conn.write(Buffer.from(text, "latin1"));
  }

  onResponse(head: ResponseHead, framing: Framing, body: Buffer | undefined, complete: boolean): void {
    if (this.done) return;
    this.firstByteAt = Date.now();
    this.targetStatus = head.status;
    this.responseStarted = true;
    // A body of unknown length goes to an HTTP/1.1 client as chunks; an HTTP/1.0 client gets it up to the close.
    this.closeAfter = !this.reusableAfterAnswer() || (framing === "close" && this.req.minor === 0);
    this.rechunk = framing === "close" && !this.closeAfter;
    const text = clientResponseHead(head, { close: this.closeAfter, keepAlive10: !this.closeAfter && this.req.minor === 0, chunk: this.rechunk });
    const payload = body === undefined ? undefined : this.rechunk ? asChunk(body) : body;
    const tail = complete && this.rechunk ? LAST_CHUNK : undefined;
    const bytes = Buffer.allocUnsafe(text.length + (payload?.length ?? 0) + (tail?.length ?? 0));
    bytes.write(text, 0, "latin1");
    if (payload !== undefined) payload.copy(bytes, text.length);
    if (tail !== undefined) tail.copy(bytes, bytes.length - tail.length);
    this.sent += bytes.length;
    const ok = this.conn.write(bytes);
    if (complete) this.complete(head.status);
    else if (!ok) this.up?.socket.pause();
  }

  onResponseBody(chunk: Buffer, complete: boolean): void {
    if (this.done) return;
    let ok = true;
    if (chunk.length > 0) {
      const data = this.rechunk ? asChunk(chunk) : chunk;
      this.sent += data.length;
      ok = this.conn.write(data);
    }
    if (complete) {
      if (this.rechunk) {
        this.sent += LAST_CHUNK.length;
        this.conn.write(LAST_CHUNK);
      }
      this.complete(this.targetStatus!);
    } else if (!ok) this.up?.socket.pause();
  }

  onSwitch(): void {
    // Never asked for (the connection refuses a 101 to a request without Upgrade).
  }

  onTargetFailure(failure: TargetFailure, detail: string): void {
    const up = this.up;
    this.up = null;
    if (this.done) return;
    if (this.responseStarted) {
      this.done = true;
      this.conn.destroy(); // the target failed mid-response: the client's connection is cut, as the ALB does
      return;
    }
    // A kept-alive connection the target had closed meanwhile: once more on a new one, as a client would.
    if (failure === "closed" && up !== null && up.served > 0 && !this.retried && this.bodyless) {
      this.retried = true;
      this.forward(true);
      return;
    }
    this.answer(failureAnswer(this.ctx, this.decision, this.targetName, this.picked!.failOpen, failure, detail), false);
  }

  /** The target's response is complete. */
  private complete(status: number): void {
    this.done = true;
    this.up = null; // back in its pool, or closed
    if (this.ctx.accessLog) {
      logAccess(this.ctx, this.req, this.conn.info, {
        type: "https",
        status,
        targetStatus: status,
        target: this.targetName,
        groupArn: this.groupArn(),
        traceId: this.forwarded!.traceId,
        decision: this.decision,
        receivedBytes: this.received,
        sentBytes: this.sent,
        start: this.startedAt,
        requestMs: this.sentAt! - this.startedAt,
        targetMs: this.firstByteAt! - this.sentAt!,
        responseMs: 0,
      });
    }
    this.conn.responseDone(this.closeAfter);
  }

  /** An answer from the load balancer itself; `undispatched`: no target was tried (503). */
  private answer(a: LbAnswer, undispatched: boolean): void {
    this.done = true;
    const close = !this.reusableAfterAnswer();
    const bytes = answerBytes(a, { close, keepAlive10: !close && this.req.minor === 0, headOnly: this.req.method === "HEAD" });
    this.sent += bytes.length;
    this.conn.write(bytes);
    const ctx = this.ctx;
    const info = this.conn.info;
    if (a.status >= 400) {
      ctx.emit({ kind: "request-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: info.client, method: this.req.method, url: this.req.target, status: a.status, decidedBy: this.decision.decidedBy, reason: a.explanation });
    }
    if (ctx.accessLog) {
      const target = this.picked && !undispatched ? this.targetName : undefined;
      logAccess(ctx, this.req, info, {
        type: "https",
        status: a.status,
        target,
        groupArn: target ? this.groupArn() : undefined,
        traceId: this.forwarded?.traceId,
        decision: this.decision,
        receivedBytes: this.received,
        sentBytes: this.sent,
        start: this.startedAt,
        requestMs: undispatched ? undefined : target ? (this.sentAt === undefined ? undefined : this.sentAt - this.startedAt) : 0,
        targetMs: undispatched ? undefined : target ? undefined : 0,
        responseMs: undispatched || target ? undefined : 0,
      });
    }
    this.conn.responseDone(close);
  }

  private groupArn(): string | undefined {
    const action = this.decision.action;
    return action.type === "forward" ? this.ctx.targetGroupArns.get(action.targetGroup) : undefined;
  }
}
