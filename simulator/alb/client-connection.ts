import type * as net from "node:net";
import { BodyFramer } from "./body-framing";
import { headEnd, HeadError, MAX_HEAD_BYTES } from "./http-head";
import { parseRequestHead, RequestHead, RequestHeadScanner } from "./request-head";
import type { ConnectionInfo, ListenerContext } from "./listener-context";
import { logUnreadRequest } from "./request-log";
import { answerBytes, errorAnswer, LbAnswer } from "./responses";

/**
 * One accepted client connection (TLS already terminated and the client certificate accepted):
 * reads request heads, hands each request to an exchange, relays the request body's bytes to it
 * while keeping the message boundary (Content-Length or chunked), and takes the next request when
 * the exchange's response is complete (pipelined requests wait their turn).
 *
 * Timeouts, AWS ("Edit attributes" > Connection idle timeout; "Troubleshoot" > HTTP 408): a
 * connection with nothing sent or received for the idle timeout is closed, with a 408 when a
 * request was under way ("The client did not send data before the idle timeout period expired").
 * A request head must also be complete within one idle timeout of its first byte, however slowly
 * its bytes trickle in (assumption `alb-head-deadline`: AWS documents only the idle timer, which
 * every byte resets, so a slowloris client could otherwise hold a connection for ever). After
 * `client_keep_alive` the connection closes after its next response ("HTTP client keepalive
 * duration"). An answer sent before its request body is complete (a target's early 413, a fixed
 * response): the rest of the body is read and dropped, and if it has not all come within LINGER_MS
 * the connection closes, so a client that stopped sending is not held until the idle timeout. A
 * closing connection likewise reads and drops what its client still sends for LINGER_MS, so the
 * client sees the answer rather than a reset (assumption `alb-lingering-close`).
 */

/** One request and its response, driven by the connection. */
export interface ClientExchange {
  start(): void;
  /** Request body bytes; false: the target is full, reading pauses until `resumeReading`. */
  onRequestBody(chunk: Buffer): boolean;
  /** The request body is complete (only called for requests that have one). */
  onRequestEnd(): void;
  /** The request body cannot be read to its end (a broken chunked coding, or the client stopped sending for good). */
  onRequestBodyError(reason: string): void;
  /** The client sent nothing for the idle timeout while its request body was incomplete. */
  onClientTimeout(): void;
  /** The client can take more bytes. */
  onClientDrain(): void;
  /** The client's connection closed before the exchange completed. */
  onClientGone(): void;
}

/** Builds the exchange for a request: HTTP, or an upgrade (`rest`: bytes the client sent after the head). */
export type ExchangeFactory = (conn: ClientConnection, req: RequestHead, bodyless: boolean, rest: Buffer | null) => ClientExchange;

/** How long a closing connection keeps reading (and dropping) what its client still sends. */
export const LINGER_MS = 2000;

export class ClientConnection {
  /** Bytes received and not yet parsed (the next request, or part of its head). */
  private buf: Buffer | null = null;
  private exchange: ClientExchange | null = null;
  private readonly framer = new BodyFramer();
  private readonly scanner = new RequestHeadScanner();
  /** The current request's body is still arriving. */
  private inBody = false;
  /** The current exchange's response is complete. */
  private responded = false;
  private closeAfter = false;
  /** No more requests: the connection is closing or handed over. */
  private closing = false;
  private parsing = false;
  private paused = false;
  private headTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** When `client_keep_alive` runs out (performance.now() ms). */
  private readonly keepAliveUntil: number;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onDrain = () => this.exchange?.onClientDrain();
  private readonly onTimeout = () => this.idle();
  private readonly onEnd = () => this.clientEnded();
  private readonly onClose = () => this.closed();
  // Resets and writes to a vanished client (the TLS server also swallows them): 'close' follows and ends the exchange.
  private readonly onError = () => undefined;

  constructor(
    readonly ctx: ListenerContext,
    readonly socket: net.Socket,
    readonly info: ConnectionInfo,
    private readonly newExchange: ExchangeFactory,
  ) {
    this.keepAliveUntil = performance.now() + ctx.clientKeepAliveMs;
    socket.setTimeout(ctx.idleTimeoutMs);
    socket.on("data", this.onData);
    socket.on("drain", this.onDrain);
    socket.on("timeout", this.onTimeout);
    socket.on("end", this.onEnd);
    socket.on("close", this.onClose);
    socket.on("error", this.onError);
  }

  /** `client_keep_alive` has run out: the response being sent is the connection's last. */
  get keepAliveOver(): boolean {
    return performance.now() >= this.keepAliveUntil;
  }

  /** Response bytes; false: the client is full (`onClientDrain` follows). */
  write(data: Buffer): boolean {
    return this.socket.write(data);
  }

  /** The response is complete; `close`: the connection closes after it. */
  responseDone(close: boolean): void {
    this.responded = true;
    if (close || this.keepAliveOver) this.closeAfter = true;
    // Once the connection is to close, the rest of the request body does not matter.
    if (this.inBody && this.closeAfter) this.inBody = false;
    if (!this.inBody) return this.finish();
    // The rest of the body is dropped as it comes; a client that stopped sending is not waited for.
    this.lingerTimer = setTimeout(() => {
      if (!this.inBody || this.closing) return;
      this.inBody = false;
      this.closeAfter = true;
      this.finish();
    }, LINGER_MS);
    this.lingerTimer.unref();
  }

  pauseReading(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  resumeReading(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Cuts the connection (a target failed mid-response, as the ALB does). */
  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  /** Hands the socket over (a switched protocol): no more HTTP here. Returns bytes received and not parsed. */
  takeSocket(): { socket: net.Socket; rest: Buffer | null } {
    const s = this.socket;
    this.closing = true;
    this.exchange = null;
    this.stopHeadTimer();
    s.off("data", this.onData);
    s.off("drain", this.onDrain);
    s.off("timeout", this.onTimeout);
    s.off("end", this.onEnd);
    s.off("close", this.onClose);
    s.off("error", this.onError);
    s.setTimeout(0);
    const rest = this.buf;
    this.buf = null;
    this.resumeReading();
    return { socket: s, rest };
  }

  private data(chunk: Buffer): void {
    if (this.closing) return; // lingering: what a closing connection's client still sends is dropped
    if (this.inBody) return this.body(chunk);
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.exchange === null) this.parse();
    else if (this.buf.length > MAX_HEAD_BYTES) this.pauseReading(); // pipelined requests wait; so does their sender
  }

  /** Starts exchanges for the complete request heads in `buf`, one at a time. */
  private parse(): void {
    if (this.parsing) return; // an exchange completed synchronously: the loop below goes on
    this.parsing = true;
    while (this.exchange === null && this.buf !== null && !this.closing) {
      const buf = this.buf;
      const early = this.scanner.scan(buf);
      if (early) {
        this.refuseHead(early, buf);
        break;
      }
      const end = headEnd(buf);
      if (end < 0 ? buf.length > MAX_HEAD_BYTES : end > MAX_HEAD_BYTES) {
        this.refuseHead(new HeadError(`request head larger than ${MAX_HEAD_BYTES} bytes`), buf);
        break;
      }
      if (end < 0) {
        this.startHeadTimer();
        break;
      }
      this.stopHeadTimer();
      this.scanner.reset();
      this.buf = end < buf.length ? buf.subarray(end) : null;
      const req = parseRequestHead(buf.toString("latin1", 0, end));
      if (req instanceof HeadError) {
        this.refuseHead(req, buf.subarray(0, end));
        break;
      }
      this.responded = false;
      this.closeAfter = !req.keepAlive;
      if (req.upgrade || req.method === "CONNECT") {
        // The bytes after an upgrade request's head belong to the new protocol.
        const rest = this.buf;
        this.buf = null;
        this.inBody = false;
        this.exchange = this.newExchange(this, req, true, rest);
        this.exchange.start();
        continue;
      }
      this.framer.reset(req.chunked ? "chunked" : req.contentLength > 0 && !req.framingError ? "length" : "none", req.contentLength);
      this.inBody = !this.framer.done;
      this.exchange = this.newExchange(this, req, !this.inBody, null);
      this.exchange.start();
      if (this.inBody && this.buf !== null) {
        const b = this.buf;
        this.buf = null;
        this.body(b);
      }
    }
    this.parsing = false;
  }

  private body(chunk: Buffer): void {
    const e = this.framer.consume(chunk, 0);
    if (e < 0) {
      // A malformed chunked body: its end cannot be known, so the connection cannot carry another request.
      this.inBody = false;
      this.closeAfter = true;
      if (this.responded) return this.finish();
      return this.exchange!.onRequestBodyError(`malformed chunked request body: ${this.framer.error}`);
    }
    if (e > 0 && !this.responded && !this.exchange!.onRequestBody(e === chunk.length ? chunk : chunk.subarray(0, e))) this.pauseReading();
    if (!this.framer.done) return;
    this.inBody = false;
    clearTimeout(this.lingerTimer);
    if (e < chunk.length) this.buf = this.buf === null ? chunk.subarray(e) : Buffer.concat([this.buf, chunk.subarray(e)]);
    if (this.responded) this.finish();
    else this.exchange!.onRequestEnd();
  }

  /** Request and response complete: the next request, or the end of the connection. */
  private finish(): void {
    this.exchange = null;
    if (this.closeAfter || this.keepAliveOver) {
      this.close();
      return;
    }
    this.resumeReading();
    if (this.buf !== null) this.parse();
  }

  /** Ends the connection after what was written, reading (and dropping) late bytes for LINGER_MS. */
  private close(): void {
    this.closing = true;
    this.stopHeadTimer();
    this.buf = null;
    this.resumeReading();
    this.socket.end();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    this.lingerTimer.unref();
  }

  /** The load balancer answers a request it could not read (or read in time), logs it, and closes. */
  private answerUnread(a: LbAnswer, head: Buffer | null): void {
    this.closing = true;
    const bytes = answerBytes(a, { close: true, keepAlive10: false, headOnly: false });
    this.socket.write(bytes);
    const ctx = this.ctx;
    const requestLine = head === null ? undefined : head.toString("latin1", 0, Math.min(head.length, 200)).split("\r\n")[0];
    ctx.emit({ kind: "request-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: this.info.client, method: "-", url: requestLine ?? "-", status: a.status, decidedBy: ctx.model.address, reason: a.explanation });
    logUnreadRequest(ctx, this.info, { status: a.status, receivedBytes: head?.length ?? 0, sentBytes: bytes.length, requestLine });
    this.close();
  }

  private refuseHead(e: HeadError, head: Buffer): void {
    this.answerUnread(errorAnswer(e.status, `malformed request: ${e.reason}`), head);
  }

  private startHeadTimer(): void {
    if (this.headTimer !== undefined || this.closing) return;
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined;
      if (this.exchange === null && this.buf !== null && !this.closing) {
        this.answerUnread(errorAnswer(408, `the request head was not complete ${this.ctx.headTimeoutMs} ms after its first byte`), this.buf);
      }
    }, this.ctx.headTimeoutMs);
    this.headTimer.unref();
  }

  private stopHeadTimer(): void {
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }

  private idle(): void {
    if (this.closing) {
      this.socket.destroy();
      return;
    }
    if (this.exchange === null) {
      // Part of a head and then silence: AWS's 408. No request at all: the idle connection just closes.
      if (this.buf !== null && this.buf.length > 0) return this.answerUnread(errorAnswer(408, `the client sent nothing for the idle timeout (${this.ctx.idleTimeoutMs} ms) in the middle of a request head`), this.buf);
      this.socket.destroy();
      return;
    }
    if (this.inBody && !this.responded) this.exchange.onClientTimeout();
  }

  private clientEnded(): void {
    // The client sent all it will send: answer what is in flight, then close.
    this.closeAfter = true;
    if (this.inBody) {
      this.inBody = false;
      // AWS ("Troubleshoot" > HTTP 400): "The client closed the connection before sending the full request body."
      if (!this.responded) return this.exchange!.onRequestBodyError("the client closed the connection before sending the full request body");
      return this.finish();
    }
    if (this.exchange === null && !this.closing) {
      this.closing = true;
      this.socket.end();
    }
  }

  private closed(): void {
    this.closing = true;
    this.stopHeadTimer();
    clearTimeout(this.lingerTimer);
    const ex = this.exchange;
    this.exchange = null;
    ex?.onClientGone();
  }
}
