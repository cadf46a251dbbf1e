import * as net from "node:net";
import * as tls from "node:tls";
import { BodyFramer, Framing } from "./body-framing";
import { headEnd, HeadError, MAX_HEAD_BYTES, parseResponseHead, ResponseHead } from "./http-head";

/**
 * One client context for every connection to targets: ALB target groups do not verify target
 * certificates and present none, so nothing differs per connection. A context per connection
 * cost ~15 KiB and ~0.13 ms each (measured with 10,000 held sessions).
 */
let sharedTargetContext: tls.SecureContext | undefined;
function targetContext(): tls.SecureContext {
  return (sharedTargetContext ??= tls.createSecureContext({}));
}

/**
 * One keep-alive connection from the load balancer to a target (TLS without verifying the
 * target's certificate, as HTTPS target groups do, or plain TCP). It carries one request at a time
 * for whichever exchange holds it, reads just enough of the response (head, body framing) to tell
 * the exchange where the response ends, and goes back to its pool when the response is complete
 * and both sides allow reuse. Its listeners are attached once, for the life of the connection.
 */

/** What went wrong with a target, as the exchange turns it into 502 or 504. */
export type TargetFailure = "refused" | "connect-timeout" | "tls-timeout" | "timeout" | "closed" | "malformed";

/** The side of an exchange that receives the target's response. */
export interface TargetExchange {
  /** An interim response (100 Continue, 103 Early Hints). */
  onInterim(head: ResponseHead): void;
  /** The final response head, the body bytes that came with it, and whether the response is complete. */
  onResponse(head: ResponseHead, framing: Framing, body: Buffer | undefined, complete: boolean): void;
  /** More body bytes (possibly none, when the target's close completes the body). */
  onResponseBody(chunk: Buffer, complete: boolean): void;
  /** 101 to an upgrade request: the connection now belongs to the exchange, with the bytes after the head. */
  onSwitch(head: ResponseHead, rest: Buffer | undefined): void;
  /** The target failed before the response was complete; the connection is already destroyed. */
  onTargetFailure(failure: TargetFailure, detail: string): void;
  /** The target can take more request body. */
  onTargetDrain(): void;
}

export interface TargetPoolHooks {
  /** The response is complete and the connection can carry another request. */
  release(c: TargetConnection): void;
  /** The connection closed. */
  forget(c: TargetConnection): void;
  /** A TLS session to resume on the next connection to the same target. */
  session(c: TargetConnection, session: Buffer): void;
}

export interface TargetConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** No TCP connection within this: `connect-timeout`; no TLS handshake within this after it: `tls-timeout` (AWS: 10 s each). */
  readonly connectTimeoutMs: number;
  /** Nothing received for this long during an exchange: `timeout` (when idle: the connection closes). */
  readonly targetTimeoutMs: number;
  /** A session from an earlier connection to the target. */
  readonly session?: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class TargetConnection {
  readonly socket: net.Socket;
  /** Responses completed on this connection (> 0: it has been reused). */
  served = 0;
  /** The connection is closed or closing. */
  closed = false;
  private exchange: TargetExchange | null = null;
  private pending: Buffer | null = null;
  private readonly framer = new BodyFramer();
  private inBody = false;
  private headRequest = false;
  private upgradeRequest = false;
  private requestDone = true;
  private reusable = false;
  /** The exchange asked for the connection to close after this response (desync mitigation). */
  private noReuse = false;
  private connected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private errorCode: string | undefined;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.end();
  private readonly onClose = () => this.close();
  private readonly onError = (e: NodeJS.ErrnoException) => this.error(e);
  private readonly onTimeout = () => this.timeout();
  private readonly onDrain = () => this.exchange?.onTargetDrain();
  private readonly onSession = (session: Buffer) => this.pool.session(this, session);

  constructor(
    private readonly pool: TargetPoolHooks,
    /** Pool key of the target. */
    readonly key: string,
    o: TargetConnectionOptions,
  ) {
    this.socket = o.tls
      ? tls.connect({ host: o.host, port: o.port, servername: net.isIP(o.host) ? undefined : o.host, rejectUnauthorized: false, session: o.session, secureContext: targetContext() })
      : net.connect({ host: o.host, port: o.port });
    const s = this.socket;
    s.setNoDelay(true);
    s.setTimeout(o.targetTimeoutMs);
    s.on("data", this.onData);
    s.on("end", this.onEnd);
    s.on("close", this.onClose);
    s.on("error", this.onError);
    s.on("timeout", this.onTimeout);
    s.on("drain", this.onDrain);
    if (o.tls) s.on("session", this.onSession);
    s.once("connect", () => {
      this.connected = true;
      clearTimeout(this.connectTimer);
      // AWS ("Troubleshoot" > HTTP 502): "an SSL handshake error or SSL handshake timeout (10 seconds) when connecting to a target".
      if (o.tls) {
        this.connectTimer = setTimeout(() => this.fail("tls-timeout", `did not complete the TLS handshake within ${o.connectTimeoutMs} ms`), o.connectTimeoutMs);
        s.once("secureConnect", () => clearTimeout(this.connectTimer));
      }
    });
    this.connectTimer = setTimeout(() => this.fail("connect-timeout", `did not accept the connection within ${o.connectTimeoutMs} ms`), o.connectTimeoutMs);
  }

  /** The connection closes once the current response is complete (never goes back to the pool). */
  closeAfterResponse(): void {
    this.noReuse = true;
  }

  /** Sends a request head for `exchange`; `bodyless`: no body follows (otherwise `writeBody`, `endBody`). */
  send(exchange: TargetExchange, head: string | Buffer, method: string, bodyless: boolean, upgrade = false): void {
    this.exchange = exchange;
    this.headRequest = method === "HEAD";
    this.upgradeRequest = upgrade;
    this.requestDone = bodyless;
    this.inBody = false;
    this.pending = null;
    if (typeof head === "string") this.socket.write(head, "latin1");
    else this.socket.write(head);
  }

  /** Request body bytes; false: wait for `onTargetDrain`. */
  writeBody(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  endBody(): void {
    this.requestDone = true;
  }

  destroy(): void {
    this.closed = true;
    this.exchange = null;
    clearTimeout(this.connectTimer);
    this.socket.destroy();
  }

  /** After a 101: the socket leaves this object (no more parsing, no pool). */
  takeSocket(): net.Socket {
    const s = this.socket;
    this.closed = true;
    this.exchange = null;
    clearTimeout(this.connectTimer);
    s.off("data", this.onData);
    s.off("end", this.onEnd);
    s.off("close", this.onClose);
    s.off("error", this.onError);
    s.off("timeout", this.onTimeout);
    s.off("drain", this.onDrain);
    // Nothing of this object stays with a socket held for hours (a WebSocket).
    s.off("session", this.onSession);
    s.setTimeout(0);
    this.pool.forget(this);
    return s;
  }

  private fail(failure: TargetFailure, detail: string): void {
    const ex = this.exchange;
    this.destroy();
    ex?.onTargetFailure(failure, detail);
  }

  /** The response is complete: back to the pool, or closed. */
  private complete(): void {
    this.exchange = null;
    this.inBody = false;
    this.served++;
    if (this.reusable && this.requestDone && !this.closed && !this.noReuse) this.pool.release(this);
    else this.destroy();
  }

  private data(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex === null) return this.destroy(); // bytes nobody asked for: the connection cannot be trusted
    if (this.inBody) return this.body(ex, chunk);
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    for (;;) {
      const end = headEnd(buf);
      if (end < 0 ? buf.length > MAX_HEAD_BYTES : end > MAX_HEAD_BYTES) return this.fail("malformed", `sent a response head larger than ${MAX_HEAD_BYTES} bytes`);
      if (end < 0) {
        this.pending = buf;
        return;
      }
      const head = parseResponseHead(buf.toString("latin1", 0, end));
      if (head instanceof HeadError) return this.fail("malformed", `sent a malformed response (${head.reason})`);
      if (head.status >= 200) return this.head(ex, head, buf, end);
      if (head.status === 101) {
        if (!this.upgradeRequest) return this.fail("malformed", "switched protocols without being asked to");
        this.exchange = null;
        return ex.onSwitch(head, end < buf.length ? buf.subarray(end) : undefined);
      }
      ex.onInterim(head);
      if (end === buf.length) return;
      buf = buf.subarray(end);
    }
  }

  private head(ex: TargetExchange, head: ResponseHead, buf: Buffer, end: number): void {
    // Message body length, RFC 9112 6.3.
    const framing: Framing =
      this.headRequest || head.status === 204 || head.status === 304 ? "none" : head.chunked ? "chunked" : head.transferEncoding ? "close" : head.contentLength >= 0 ? "length" : "close";
    this.framer.reset(framing, head.contentLength);
    this.reusable = head.keepAlive && framing !== "close";
    const bodyEnd = this.framer.consume(buf, end);
    if (bodyEnd < 0) return this.fail("malformed", `sent a malformed chunked body (${this.framer.error})`);
    const body = bodyEnd > end ? buf.subarray(end, bodyEnd) : undefined;
    if (this.framer.done) {
      if (bodyEnd < buf.length) this.reusable = false;
      this.complete();
      return ex.onResponse(head, framing, body, true);
    }
    this.inBody = true;
    ex.onResponse(head, framing, body, false);
  }

  private body(ex: TargetExchange, chunk: Buffer): void {
    const e = this.framer.consume(chunk, 0);
    if (e < 0) return this.fail("malformed", `sent a malformed chunked body (${this.framer.error})`);
    const data = e === chunk.length ? chunk : chunk.subarray(0, e);
    if (this.framer.done) {
      if (e < chunk.length) this.reusable = false;
      this.complete();
      return ex.onResponseBody(data, true);
    }
    ex.onResponseBody(data, false);
  }

  private end(): void {
    const ex = this.exchange;
    if (ex !== null && this.inBody && this.framer.framing === "close") {
      // The target's close ends a body of unknown length.
      this.reusable = false;
      this.complete();
      ex.onResponseBody(EMPTY, true);
      return;
    }
    if (ex !== null) return this.fail("closed", `closed the connection before ${this.inBody ? "the response was complete" : "answering"} (${this.errorCode ?? "socket hang up"})`);
    this.destroy();
  }

  private close(): void {
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.pool.forget(this);
    if (this.exchange !== null) this.end();
  }

  private error(e: NodeJS.ErrnoException): void {
    this.errorCode = e.code ?? e.message;
    if (this.exchange === null) return;
    if (!this.connected && e.code === "ECONNREFUSED") return this.fail("refused", "refused the connection");
    this.fail("closed", `closed the connection before ${this.inBody ? "the response was complete" : "answering"} (${this.errorCode})`);
  }

  private timeout(): void {
    if (this.exchange === null) return this.destroy(); // an idle connection: closed after the same time
    this.fail("timeout", "");
  }
}
