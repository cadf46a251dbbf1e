import { EventEmitter } from "node:events";
import type * as net from "node:net";
import { certificateList } from "./tls-wire/certificate-message";
import { parseServerHello, serverKeyExchangeGroup, ServerHello } from "./tls-wire/hellos";
import { groupName } from "./tls-wire/names";
import { CONTENT_TYPE, HANDSHAKE_TYPE, HandshakeAssembler, HandshakeMessage, RecordSplitter, TlsRecord } from "./tls-wire/records";
import { plainAlert } from "./tls-wire/alerts";

/**
 * Sits between a client's TCP connection and Node's TLS server (OpenSSL runs the handshake) for a
 * TLS 1.2 (or older) handshake on a listener that asks for client certificates, and follows it on
 * the wire: what the server chose (the `tls_keyexchange` group from its ServerKeyExchange), and the
 * certificates the client sent, in the order it sent them. The client's certificate flight is held
 * back from OpenSSL until the certificate is judged; a refused client gets a fatal alert in the
 * clear in place of the server's ChangeCipherSpec and Finished, as a TLS server refuses during the
 * handshake (ELB user guide, "Mutual authentication with TLS in Application Load Balancer": verify
 * mode authenticates clients "when a load balancer negotiates TLS connections"). Once the
 * certificate is judged, bytes flow through untouched.
 *
 * TLS 1.3 handshakes are not routed through it (listener-server.ts): their certificate flight is
 * encrypted, and a refusal is sent after the client's Finished anyway, so Node's TLS server reads
 * the socket directly and keeps its speed.
 *
 * Node's TLS server reads and writes it as the stream it wraps (JSStreamSocket: on('data'), pause,
 * resume, cork, write, uncork, end, destroy): a plain emitter with just those, as stream.Duplex's
 * buffering would cost more than the rest of the hop.
 */

/** A refused client gets this long to read the alert before its connection is dropped. */
const LINGER_MS = 2000;

/** What the watcher saw of a handshake. */
export interface HandshakeFacts {
  /** The ServerHello. */
  serverHello?: ServerHello;
  /** `tls_keyexchange`: the group of the ServerKeyExchange; `-` for key transport (RSA) or when unknown. */
  keyExchange: string;
  /** The certificates of the client's Certificate message, leaf first; undefined: not read. */
  presented?: Buffer[];
  /** A fatal alert either side sent during the handshake (description). */
  alertFromServer?: number;
  alertFromClient?: number;
  /** The alert the watcher refused the client with. */
  refusedWith?: number;
}

export interface HandshakeWatcherOptions {
  /** The presented chain (empty: none); returns the alert to refuse with, or undefined to accept. */
  readonly judge: (presented: Buffer[], facts: HandshakeFacts) => number | undefined;
}

type Phase = "hello" | "certificate" | "through";

export class HandshakeWatcher extends EventEmitter {
  readonly facts: HandshakeFacts = { keyExchange: "-" };
  /** Read by Node's TLSSocket for the socket it creates. */
  readonly allowHalfOpen = true;
  readable = true;
  writable = true;
  private clientPhase: Phase = "hello";
  private serverWatched = true;
  private readonly fromClient = new RecordSplitter();
  private readonly fromServer = new RecordSplitter();
  private readonly clientMessages = new HandshakeAssembler();
  private readonly serverMessages = new HandshakeAssembler();
  /** Client bytes held back from OpenSSL while the certificate is judged. */
  private held: Buffer[] = [];
  private lingering = false;
  private closed = false;
  /** Node paused reading: client bytes wait here. */
  private paused = false;
  private queued: Buffer[] = [];
  private endQueued = false;
  /** Writes between cork() and uncork(), sent as one. */
  private corked = false;
  private batch: Buffer[] = [];
  private batchCallbacks: ((err?: Error | null) => void)[] = [];
  private readonly onRawData = (chunk: Buffer) => this.clientBytes(chunk);

  constructor(
    readonly raw: net.Socket,
    /** The bytes already read from the client (its ClientHello: client-hello-peek.ts). */
    firstBytes: Buffer,
    private readonly options: HandshakeWatcherOptions,
  ) {
    super();
    this.queued.push(firstBytes);
    this.paused = true; // until Node's TLS socket starts reading
    raw.on("data", this.onRawData);
    raw.on("end", () => {
      if (this.lingering) return;
      if (this.queued.length > 0) this.endQueued = true;
      else this.emit("end");
    });
    raw.on("close", () => this.destroy());
    raw.on("error", () => undefined); // 'close' follows
  }

  // The stream Node's TLS server drives.

  pause(): this {
    this.paused = true;
    this.raw.pause();
    return this;
  }

  resume(): this {
    this.paused = false;
    // Node's TLS socket resumes its stream while it is still being built: queued bytes wait a tick.
    if (this.queued.length > 0 || this.endQueued) process.nextTick(() => this.flushQueued());
    else if (!this.lingering) this.raw.resume();
    return this;
  }

  private flushQueued(): void {
    while (!this.paused && this.queued.length > 0) this.emit("data", this.queued.shift()!);
    if (this.paused || this.closed) return;
    if (this.endQueued) {
      this.endQueued = false;
      this.emit("end");
    }
    if (!this.lingering) this.raw.resume();
  }

  cork(): void {
    this.corked = true;
  }

  uncork(): void {
    this.corked = false;
    if (this.batch.length === 0) return;
    const chunks = this.batch;
    const callbacks = this.batchCallbacks;
    this.batch = [];
    this.batchCallbacks = [];
    this.send(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), callbacks);
  }

  write(chunk: Buffer, callback?: (err?: Error | null) => void): boolean {
    if (this.serverWatched) this.serverBytes(chunk);
    if (this.corked) {
      this.batch.push(chunk);
      if (callback) this.batchCallbacks.push(callback);
      return true;
    }
    this.send(chunk, callback ? [callback] : []);
    return true;
  }

  end(callback?: () => void): void {
    if (this.lingering || this.closed) return void callback?.();
    this.raw.end(callback);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.readable = this.writable = false;
    if (!this.lingering) this.raw.destroy();
    this.emit("close");
  }

  private send(data: Buffer, callbacks: readonly ((err?: Error | null) => void)[]): void {
    const done = () => callbacks.forEach((cb) => cb());
    if (this.lingering || this.closed) return done();
    if (this.raw.write(data)) done();
    else this.raw.once("drain", done);
  }

  private deliver(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.paused) this.queued.push(chunk);
    else this.emit("data", chunk);
  }

  private clientBytes(chunk: Buffer): void {
    if (this.clientPhase !== "certificate") {
      if (this.clientPhase === "hello") this.clientAlerts(chunk);
      return this.deliver(chunk);
    }
    this.held.push(chunk);
    let records: TlsRecord[];
    try {
      records = this.fromClient.push(chunk);
    } catch {
      return this.release(); // not TLS framing: OpenSSL says what is wrong with it
    }
    for (const r of records) {
      const next = this.flightRecord(r);
      if (next === "more") continue;
      if (next === "unreadable") return this.release();
      return this.judge(next);
    }
  }

  /** Before the certificate flight: only a client's alert matters (it refused the server, or the offer). */
  private clientAlerts(chunk: Buffer): void {
    try {
      for (const r of this.fromClient.push(chunk)) if (r.type === CONTENT_TYPE.alert) this.noteAlert(r.body, "client");
    } catch {
      this.clientPhase = "through";
    }
  }

  private noteAlert(body: Buffer, from: "client" | "server"): void {
    if (body.length < 2 || body[0] !== 2) return;
    if (from === "client") this.facts.alertFromClient ??= body[1];
    else this.facts.alertFromServer ??= body[1];
  }

  /**
   * One record of the client's flight after the server's hello done: "more" to read on, the
   * presented certificates (none: the flight went on without a Certificate message), or
   * "unreadable" (left to OpenSSL, which refuses what it cannot read).
   */
  private flightRecord(r: TlsRecord): "more" | "unreadable" | Buffer[] {
    if (r.type === CONTENT_TYPE.alert) this.noteAlert(r.body, "client");
    if (r.type !== CONTENT_TYPE.handshake) return [];
    const messages: HandshakeMessage[] = this.clientMessages.push(r.body);
    if (messages.length === 0) return "more";
    // The Certificate message comes first when there is one (else ClientKeyExchange).
    if (messages[0].type !== HANDSHAKE_TYPE.certificate) return [];
    try {
      return certificateList(messages[0].body);
    } catch {
      return "unreadable";
    }
  }

  private judge(presented: Buffer[]): void {
    this.facts.presented = presented;
    const alert = this.options.judge(presented, this.facts);
    if (alert === undefined) return this.release();
    this.facts.refusedWith = alert;
    this.refuse(alert);
  }

  /** Hands the held flight to OpenSSL and stops watching the client. */
  private release(): void {
    const held = this.held;
    this.held = [];
    this.clientPhase = "through";
    for (const c of held) this.deliver(c);
  }

  /** Sends the alert in OpenSSL's place and closes after the client has had time to read it. */
  private refuse(alert: number): void {
    this.held = [];
    this.clientPhase = "through";
    this.lingering = true;
    this.raw.off("data", this.onRawData);
    this.raw.on("data", () => undefined); // read and drop what the client still sends
    this.raw.resume();
    this.raw.setTimeout(LINGER_MS, () => this.raw.destroy());
    this.raw.once("end", () => this.raw.destroy());
    this.raw.end(plainAlert(alert, this.facts.serverHello!.version));
    this.destroy();
  }

  private serverBytes(chunk: Buffer): void {
    let records: TlsRecord[];
    try {
      records = this.fromServer.push(chunk);
    } catch {
      this.serverWatched = false;
      return;
    }
    for (const r of records) {
      if (!this.serverWatched) break;
      if (r.type === CONTENT_TYPE.alert) this.noteAlert(r.body, "server");
      else if (r.type === CONTENT_TYPE.changeCipherSpec) this.serverEncrypts();
      else if (r.type === CONTENT_TYPE.handshake) for (const m of this.serverMessages.push(r.body)) this.serverMessage(m);
    }
  }

  /** The server's ChangeCipherSpec: what follows is encrypted. Before its hello done, a resumed session: nothing to judge. */
  private serverEncrypts(): void {
    this.serverWatched = false;
    if (this.clientPhase === "hello") this.clientPhase = "through";
  }

  private serverMessage(m: HandshakeMessage): void {
    if (m.type === HANDSHAKE_TYPE.serverHello) {
      try {
        this.facts.serverHello = parseServerHello(m.body);
      } catch {
        this.serverWatched = false;
        this.clientPhase = "through";
        return;
      }
      // A TLS 1.3 answer (the client offered 1.3 after all): encrypted from here on, judged after the handshake.
      if (this.facts.serverHello.version === 0x0304) {
        if (this.facts.serverHello.keyShareGroup !== undefined) this.facts.keyExchange = groupName(this.facts.serverHello.keyShareGroup);
        this.serverWatched = false;
        this.clientPhase = "through";
      }
    } else if (m.type === HANDSHAKE_TYPE.serverKeyExchange) {
      const g = serverKeyExchangeGroup(m.body);
      if (g !== undefined) this.facts.keyExchange = groupName(g);
    } else if (m.type === HANDSHAKE_TYPE.serverHelloDone && this.clientPhase === "hello") {
      this.clientPhase = "certificate";
    }
  }
}
