import { asChunk, Framing, LAST_CHUNK } from "./body-framing";
import type { ClientConnection, ClientExchange } from "./client-connection";
import type { DesyncVerdict } from "./desync-classifier";
import { clientResponseHead, ForwardedHead, forwardedRequestHead } from "./forwarding";
import { headerValues, ResponseHead } from "./http-head";
import type { ListenerContext } from "./listener-context";
import { admitRequest } from "./request-admission";
import type { RequestHead } from "./request-head";
import { logAccess, RequestOutcome } from "./request-log";
import { answerBytes, errorAnswer, LbAnswer } from "./responses";
import { applyTransforms, Decision, RequestFacts, TransformedRequest } from "./rules";
import type { TargetConnection, TargetExchange, TargetFailure } from "./target-connection";
import type { PickedTarget } from "./target-pool";

/**
 * One HTTP request through a listener: the load balancer's own checks (request-admission.ts), the
 * rules, then a fixed response or a target, with AWS's 502/503/504 when the target cannot answer.
 * The request head goes to the target rewritten (one write), the body and the response stream
 * through unchanged; the response head is rewritten (hop-by-hop headers) and sent with the first
 * body bytes in one write. A client gone before its
 * answer is logged with AWS's 460 ("Troubleshoot" > HTTP 460).
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
  const pool = ctx.pools.get(action.targetGroup)!;
  const picked = pool.pick();
  if (!picked) {
    const why = pool.targets.length === 0 ? "has no registered target" : "has no target that passed its initial health check yet";
    return { decision, answer: errorAnswer(503, `${decision.explanation}; ${action.targetGroup} ${why}`) };
  }
  return { decision, picked };
}

/** What the rules see of a request head. */
export function requestFacts(req: RequestHead): RequestFacts {
  return { method: req.method, url: req.target.trim(), host: req.host, header: (name) => headerValues(req, name) };
}

/** The 502/504 words for a target failure. */
export function failureAnswer(ctx: ListenerContext, decision: Decision, targetName: string, failOpen: boolean, failure: TargetFailure, detail: string): LbAnswer {
  const open = failOpen ? " (no target was healthy: the load balancer failed open)" : "";
  const why = failure === "timeout" ? `sent no response within ${ctx.targetTimeoutMs} ms` : detail;
  // AWS ("Troubleshoot" > HTTP 502/504): no connection within 10 s is a 504, a TLS handshake timeout (10 s) a 502.
  return errorAnswer(failure === "timeout" || failure === "connect-timeout" ? 504 : 502, `${decision.explanation}; target ${targetName}${open} ${why}`);
}

export class HttpExchange implements ClientExchange, TargetExchange, RequestFacts {
  private readonly ctx: ListenerContext;
  private readonly startedAt = Date.now();
  private decision!: Decision;
  private verdict: DesyncVerdict | undefined;
  private transformed: TransformedRequest | undefined;
  private picked: PickedTarget | undefined;
  private up: TargetConnection | null = null;
  private forwarded: ForwardedHead | undefined;
  /** Defensive mode, Ambiguous request: the client and target connections close after the response. */
  private desyncClose = false;
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
    return this.req.target.trim();
  }
  get host(): string | undefined {
    return this.req.host;
  }
  header(name: string): readonly string[] {
    return headerValues(this.req, name);
  }

  start(): void {
    const admission = admitRequest(this.req, this.ctx.desyncMode);
    this.verdict = admission.verdict;
    this.desyncClose = admission.closeAfter;
    if (admission.answer) {
      this.decision = { action: { type: "fixed-response", statusCode: admission.answer.status, contentType: "text/html", messageBody: "" }, priority: 0, decidedBy: this.ctx.model.address, explanation: admission.answer.explanation };
      return this.answer(admission.answer, true, true);
    }
    const r = route(this.ctx, this);
    this.decision = r.decision;
    if (r.answer) return this.answer(r.answer, r.answer.status === 503);
    this.picked = r.picked;
    this.transformed = applyTransforms(r.decision.transforms, this.req.target.trim(), this.req.host);
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
    this.forwarded ??= forwardedRequestHead(this.req, this.conn.info, { nowMs: this.startedAt, hostFallback: `${t.host}:${t.port}`, target: this.transformed?.target, host: this.transformed?.host });
    this.sentAt = Date.now();
    if (this.desyncClose) this.up.closeAfterResponse();
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

  onRequestBodyError(reason: string): void {
    if (this.done || this.responseStarted) return this.conn.destroy();
    this.up?.destroy();
    this.up = null;
    this.answer(errorAnswer(400, reason), false, true);
  }

  onClientTimeout(): void {
    if (this.done || this.responseStarted) return;
    this.up?.destroy();
    this.up = null;
    // AWS ("Troubleshoot" > HTTP 408): "The client did not send data before the idle timeout period expired."
    this.answer(errorAnswer(408, `the client sent nothing for the idle timeout (${this.ctx.idleTimeoutMs} ms) before its request body was complete`), false, true);
  }

  onClientGone(): void {
    // The client went away: so does the request to the target.
    const unanswered = !this.done;
    this.done = true;
    this.up?.destroy();
    this.up = null;
    // AWS ("Troubleshoot" > HTTP 460): the client closed the connection before the load balancer answered.
    if (unanswered) this.log(460, this.picked ? this.targetName : undefined, { requestMs: this.sentAt === undefined ? undefined : this.sentAt - this.startedAt });
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
    this.closeAfter = !this.reusableAfterAnswer() || this.desyncClose || this.conn.keepAliveOver || (framing === "close" && this.req.minor === 0);
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
    this.log(status, this.targetName, { targetStatus: status, requestMs: this.sentAt! - this.startedAt, targetMs: this.firstByteAt! - this.sentAt!, responseMs: 0 });
    this.conn.responseDone(this.closeAfter);
  }

  /** An answer from the load balancer itself; `undispatched`: no target was tried (503); `close`: the connection ends after it. */
  private answer(a: LbAnswer, undispatched: boolean, close = false): void {
    this.done = true;
    close ||= !this.reusableAfterAnswer() || this.desyncClose || this.conn.keepAliveOver;
    const bytes = answerBytes(a, { close, keepAlive10: !close && this.req.minor === 0, headOnly: this.req.method === "HEAD" });
    this.sent += bytes.length;
    this.conn.write(bytes);
    const ctx = this.ctx;
    const info = this.conn.info;
    if (a.status >= 400) {
      ctx.emit({ kind: "request-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: info.client, method: this.req.method, url: this.req.target, status: a.status, decidedBy: this.decision.decidedBy, reason: a.explanation });
    }
    const target = this.picked && !undispatched ? this.targetName : undefined;
    this.log(a.status, target, {
      requestMs: undispatched ? undefined : target ? (this.sentAt === undefined ? undefined : this.sentAt - this.startedAt) : 0,
      targetMs: undispatched ? undefined : target ? undefined : 0,
      responseMs: undispatched || target ? undefined : 0,
    });
    this.conn.responseDone(close);
  }

  /** The access-log entry of this exchange, with what every entry shares filled in. */
  private log(status: number, target: string | undefined, times: Pick<RequestOutcome, "targetStatus" | "requestMs" | "targetMs" | "responseMs">): void {
    if (!this.ctx.accessLog) return;
    logAccess(this.ctx, this.req, this.conn.info, {
      type: "https",
      status,
      target,
      groupArn: target ? this.groupArn() : undefined,
      traceId: this.forwarded?.traceId,
      decision: this.decision,
      receivedBytes: this.received,
      sentBytes: this.sent,
      start: this.startedAt,
      verdict: this.verdict,
      transformed: this.transformed,
      ...times,
    });
  }

  private groupArn(): string | undefined {
    const action = this.decision.action;
    return action.type === "forward" ? this.ctx.targetGroupArns.get(action.targetGroup) : undefined;
  }
}
