import type * as net from "node:net";
import { BodyFramer } from "./body-framing";
import { headEnd, HeadError, MAX_HEAD_BYTES, parseRequestHead, RequestHead } from "./http-head";
import type { ConnectionInfo, ListenerContext } from "./listener-context";
import { answerBytes, errorAnswer } from "./responses";

/**
 * One accepted client connection (TLS already terminated and the client certificate accepted):
 * reads request heads, hands each request to an exchange, relays the request body's bytes to it
 * while keeping the message boundary (Content-Length or chunked), and takes the next request when
 * the exchange's response is complete (pipelined requests wait their turn). Closes an idle
 * connection after the load balancer's idle timeout.
 */

/** One request and its response, driven by the connection. */
export interface ClientExchange {
  start(): void;
  /** Request body bytes; false: the target is full, reading pauses until `resumeReading`. */
  onRequestBody(chunk: Buffer): boolean;
  /** The request body is complete (only called for requests that have one). */
  onRequestEnd(): void;
  /** The client can take more bytes. */
  onClientDrain(): void;
  /** The client's connection closed before the exchange completed. */
  onClientGone(): void;
}

/** Builds the exchange for a request: HTTP, or an upgrade (`rest`: bytes the client sent after the head). */
export type ExchangeFactory = (conn: ClientConnection, req: RequestHead, bodyless: boolean, rest: Buffer | null) => ClientExchange;

export class ClientConnection {
  /** Bytes received and not yet parsed (the next request, or part of its head). */
  private buf: Buffer | null = null;
  private exchange: ClientExchange | null = null;
  private readonly framer = new BodyFramer();
  /** The current request's body is still arriving. */
  private inBody = false;
  /** The current exchange's response is complete. */
  private responded = false;
  private closeAfter = false;
  /** No more requests: the connection is closing or handed over. */
  private closing = false;
  private parsing = false;
  private paused = false;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onDrain = () => this.exchange?.onClientDrain();
  private readonly onTimeout = () => {
    if (this.exchange === null) this.socket.destroy(); // idle: the ALB's idle timeout
  };
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
    socket.setTimeout(ctx.idleTimeoutMs);
    socket.on("data", this.onData);
    socket.on("drain", this.onDrain);
    socket.on("timeout", this.onTimeout);
    socket.on("end", this.onEnd);
    socket.on("close", this.onClose);
    socket.on("error", this.onError);
  }

  /** Response bytes; false: the client is full (`onClientDrain` follows). */
  write(data: Buffer): boolean {
    return this.socket.write(data);
  }

  /** The response is complete; `close`: the connection closes after it. */
  responseDone(close: boolean): void {
    this.responded = true;
    if (close) this.closeAfter = true;
    // Once the connection is to close, the rest of the request body does not matter.
    if (this.inBody && this.closeAfter) this.inBody = false;
    if (!this.inBody) this.finish();
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
    if (this.closing) return;
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
      const end = headEnd(buf);
      if (end < 0 ? buf.length > MAX_HEAD_BYTES : end > MAX_HEAD_BYTES) {
        this.badRequest(`request head larger than ${MAX_HEAD_BYTES} bytes`);
        break;
      }
      if (end < 0) break;
      this.buf = end < buf.length ? buf.subarray(end) : null;
      const req = parseRequestHead(buf.toString("latin1", 0, end));
      if (req instanceof HeadError) {
        this.badRequest(req.reason);
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
      this.framer.reset(req.chunked ? "chunked" : req.contentLength > 0 ? "length" : "none", req.contentLength);
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
    if (e < 0) return this.destroy(); // a malformed chunked body: its end cannot be known
    if (e > 0 && !this.responded && !this.exchange!.onRequestBody(e === chunk.length ? chunk : chunk.subarray(0, e))) this.pauseReading();
    if (!this.framer.done) return;
    this.inBody = false;
    if (e < chunk.length) this.buf = this.buf === null ? chunk.subarray(e) : Buffer.concat([this.buf, chunk.subarray(e)]);
    if (this.responded) this.finish();
    else this.exchange!.onRequestEnd();
  }

  /** Request and response complete: the next request, or the end of the connection. */
  private finish(): void {
    this.exchange = null;
    if (this.closeAfter) {
      this.closing = true;
      this.socket.end();
      return;
    }
    this.resumeReading();
    if (this.buf !== null) this.parse();
  }

  private badRequest(reason: string): void {
    this.closing = true;
    this.socket.end(answerBytes(errorAnswer(400, `malformed request: ${reason}`), { close: true, keepAlive10: false, headOnly: false }));
  }

  private clientEnded(): void {
    // The client sent all it will send: answer what is in flight, then close.
    this.closeAfter = true;
    if (this.inBody) return this.destroy(); // the body can never complete
    if (this.exchange === null && !this.closing) {
      this.closing = true;
      this.socket.end();
    }
  }

  private closed(): void {
    this.closing = true;
    const ex = this.exchange;
    this.exchange = null;
    ex?.onClientGone();
  }
}
