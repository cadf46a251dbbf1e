import { Duplex } from "node:stream";
import type * as net from "node:net";
import { certificateList } from "./tls-wire/certificate-message";
import { ClientHello, parseClientHello, parseServerHello, serverKeyExchangeGroup, ServerHello } from "./tls-wire/hellos";
import { groupName } from "./tls-wire/names";
import { CONTENT_TYPE, HANDSHAKE_TYPE, HandshakeAssembler, HandshakeMessage, RecordSplitter, TlsRecord } from "./tls-wire/records";
import { openRecord, trafficKeys, TrafficKeys } from "./tls-wire/tls13-protection";
import { plainAlert, sealedAlert } from "./tls-wire/alerts";

/**
 * Sits between a client's TCP connection and Node's TLS server (which runs the handshake with
 * OpenSSL) and follows the handshake on the wire, as the load balancer's own TLS stack sees it:
 * the versions, ciphers and groups the client offers, what the server chose (the `tls_keyexchange`
 * group), and the certificates the client actually sent, in the order it sent them. On a listener
 * that asks for client certificates it holds the client's certificate flight back from OpenSSL
 * until the certificate is judged; a refused client gets a fatal TLS alert in place of the
 * server's next handshake message, as AWS's load balancer refuses in the handshake ("Mutual
 * authentication with TLS in Application Load Balancer": verify mode authenticates "when a load
 * balancer negotiates TLS connections"). Once the handshake is past, bytes flow through untouched.
 */

const TLS13 = 0x0304;
/** A refused client gets this long to read the alert before its connection is dropped. */
const LINGER_MS = 2000;

/** What the watcher saw of a handshake. */
export interface HandshakeFacts {
  clientHello?: ClientHello;
  /** The ServerHello (not a HelloRetryRequest). */
  serverHello?: ServerHello;
  /** `tls_keyexchange`: the group's IANA name; `-` for key transport (RSA) or when unknown. */
  keyExchange: string;
  /** The certificates of the client's Certificate message, leaf first; undefined: none was sent. */
  presented?: Buffer[];
  /** A fatal alert either side sent during the handshake (description). */
  alertFromServer?: number;
  alertFromClient?: number;
  /** The alert the watcher refused the client with. */
  refusedWith?: number;
  /** The client's first bytes were not a TLS ClientHello. */
  notTls?: boolean;
}

export interface HandshakeWatcherOptions {
  /** The listener asks for a client certificate: judge it before OpenSSL proceeds. */
  readonly inspectCertificate: boolean;
  /** The presented chain (empty: none); returns the alert to refuse with, or undefined to accept. */
  readonly judge: (presented: Buffer[], facts: HandshakeFacts) => number | undefined;
  /** The ClientHello was read (its random identifies the connection in OpenSSL's key log). */
  readonly onClientHello: (hello: ClientHello) => void;
}

type Phase = "hello" | "certificate" | "through";

export class HandshakeWatcher extends Duplex {
  readonly facts: HandshakeFacts = { keyExchange: "-" };
  private clientPhase: Phase = "hello";
  private serverWatched = true;
  private readonly fromClient = new RecordSplitter();
  private readonly fromServer = new RecordSplitter();
  private readonly clientMessages = new HandshakeAssembler();
  private readonly serverMessages = new HandshakeAssembler();
  /** Client bytes held back from OpenSSL while the certificate is judged. */
  private held: Buffer[] = [];
  /** Records of the held bytes not read yet (TLS 1.3: waiting for the key log). */
  private pending: TlsRecord[] = [];
  private clientSeq = 0;
  /** TLS 1.3 traffic secrets by key-log label (OpenSSL logs them before the ServerHello is written). */
  private readonly secrets = new Map<string, Buffer>();
  private lingering = false;
  private readonly onRawData = (chunk: Buffer) => this.clientBytes(chunk);

  constructor(
    readonly raw: net.Socket,
    private readonly options: HandshakeWatcherOptions,
  ) {
    super({ allowHalfOpen: true });
    raw.on("data", this.onRawData);
    raw.on("end", () => {
      if (!this.lingering) this.push(null);
    });
    raw.on("close", () => {
      if (!this.lingering) this.destroy();
    });
    raw.on("error", () => undefined); // 'close' follows
  }

  /** OpenSSL's key log hands over the TLS 1.3 traffic secrets of this connection. */
  acceptSecret(label: string, secret: Buffer): void {
    if (label === "CLIENT_HANDSHAKE_TRAFFIC_SECRET" || label === "SERVER_TRAFFIC_SECRET_0") this.secrets.set(label, secret);
    this.readPending();
  }

  private keys(label: "CLIENT_HANDSHAKE_TRAFFIC_SECRET" | "SERVER_TRAFFIC_SECRET_0"): TrafficKeys | undefined {
    const secret = this.secrets.get(label);
    const suite = this.facts.serverHello?.cipherSuite;
    return secret && suite !== undefined ? trafficKeys(suite, secret) : undefined;
  }

  private clientHandshakeKeys?: TrafficKeys;

  _read(): void {
    this.raw.resume();
  }

  _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.serverWatched) this.serverBytes(chunk);
    if (this.lingering) return callback();
    if (this.raw.write(chunk)) callback();
    else this.raw.once("drain", () => callback());
  }

  _final(callback: () => void): void {
    if (!this.lingering) this.raw.end();
    callback();
  }

  _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (!this.lingering) this.raw.destroy();
    callback(error);
  }

  private deliver(chunk: Buffer): void {
    if (chunk.length > 0 && !this.push(chunk)) this.raw.pause();
  }

  private clientBytes(chunk: Buffer): void {
    if (this.clientPhase === "through") return this.deliver(chunk);
    let records: TlsRecord[];
    try {
      records = this.fromClient.push(chunk);
    } catch {
      // Not TLS framing: OpenSSL says what is wrong with it.
      if (!this.facts.clientHello) this.facts.notTls = true;
      if (this.clientPhase === "certificate") this.held.push(chunk);
      else this.deliver(chunk);
      return this.release();
    }
    if (this.clientPhase === "hello") {
      for (const r of records) this.clientHelloRecord(r);
      return this.deliver(chunk);
    }
    this.held.push(chunk);
    this.pending.push(...records);
    this.readPending();
  }

  private clientHelloRecord(r: TlsRecord): void {
    if (r.type === CONTENT_TYPE.alert) this.noteAlert(r.body, "client");
    if (r.type !== CONTENT_TYPE.handshake || this.facts.clientHello) return;
    for (const m of this.clientMessages.push(r.body)) {
      if (m.type !== HANDSHAKE_TYPE.clientHello) continue;
      try {
        this.facts.clientHello = parseClientHello(m.body);
      } catch {
        this.facts.notTls = true;
        return;
      }
      this.options.onClientHello(this.facts.clientHello);
      return;
    }
  }

  private noteAlert(body: Buffer, from: "client" | "server"): void {
    if (body.length < 2 || body[0] !== 2) return;
    if (from === "client") this.facts.alertFromClient ??= body[1];
    else this.facts.alertFromServer ??= body[1];
  }

  /** Reads the held flight up to the client's Certificate message, then judges it. */
  private readPending(): void {
    while (this.clientPhase === "certificate" && this.pending.length > 0) {
      const r = this.pending[0];
      const tls13 = this.facts.serverHello!.version === TLS13;
      if (tls13 && r.type === CONTENT_TYPE.applicationData && !(this.clientHandshakeKeys ??= this.keys("CLIENT_HANDSHAKE_TRAFFIC_SECRET"))) return; // waits for the key log
      this.pending.shift();
      const next = this.flightRecord(r, tls13);
      if (next !== "more") {
        this.pending = [];
        if (next === "unreadable") this.release();
        else this.judge(next);
      }
    }
  }

  /**
   * One record of the client's flight after the server's hello: "more" to read on, the presented
   * certificates (none: the flight went on without a Certificate message), or "unreadable" (left to
   * OpenSSL, which refuses what it cannot read).
   */
  private flightRecord(r: TlsRecord, tls13: boolean): "more" | "unreadable" | Buffer[] {
    if (r.type === CONTENT_TYPE.changeCipherSpec && tls13) return "more"; // middlebox compatibility record
    if (r.type === CONTENT_TYPE.alert && !tls13) this.noteAlert(r.body, "client");
    let messages: HandshakeMessage[];
    if (tls13 && r.type === CONTENT_TYPE.applicationData) {
      try {
        const opened = openRecord(this.clientHandshakeKeys!, this.clientSeq++, r);
        if (opened.type === CONTENT_TYPE.alert) this.noteAlert(opened.content, "client");
        if (opened.type !== CONTENT_TYPE.handshake) return [];
        messages = this.clientMessages.push(opened.content);
      } catch {
        return "unreadable";
      }
    } else if (!tls13 && r.type === CONTENT_TYPE.handshake) {
      messages = this.clientMessages.push(r.body);
    } else {
      return [];
    }
    if (messages.length === 0) return "more";
    // The Certificate message comes first when there is one (ClientKeyExchange, CertificateVerify or Finished otherwise).
    if (messages[0].type !== HANDSHAKE_TYPE.certificate) return [];
    try {
      return certificateList(messages[0].body, tls13);
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
    this.pending = [];
    this.clientPhase = "through";
    for (const c of held) this.deliver(c);
  }

  /** Sends the alert in OpenSSL's place and closes after the client has had time to read it. */
  private refuse(alert: number): void {
    const sh = this.facts.serverHello!;
    const serverKeys = sh.version === TLS13 ? this.keys("SERVER_TRAFFIC_SECRET_0") : undefined;
    // TLS 1.3: the first record under the server's application keys (OpenSSL has not read the client's Finished, so it sent none).
    const record = sh.version === TLS13 ? (serverKeys ? sealedAlert(alert, serverKeys, 0) : undefined) : plainAlert(alert, sh.version);
    this.held = [];
    this.clientPhase = "through";
    this.lingering = true;
    this.raw.off("data", this.onRawData);
    this.raw.on("data", () => undefined); // read and drop what the client still sends
    this.raw.setTimeout(LINGER_MS, () => this.raw.destroy());
    this.raw.once("end", () => this.raw.destroy());
    if (record) this.raw.end(record);
    else this.raw.end();
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

  /** The server's ChangeCipherSpec (TLS 1.2): what follows is encrypted. Before its hello done, a resumed session. */
  private serverEncrypts(): void {
    this.serverWatched = false;
    if (this.clientPhase === "hello") this.release();
  }

  private serverMessage(m: HandshakeMessage): void {
    if (m.type === HANDSHAKE_TYPE.serverHello) {
      let sh: ServerHello;
      try {
        sh = parseServerHello(m.body);
      } catch {
        this.serverWatched = false;
        return this.release();
      }
      if (sh.helloRetryRequest) return; // the client sends a second ClientHello
      this.facts.serverHello = sh;
      if (sh.version === TLS13) {
        if (sh.keyShareGroup !== undefined) this.facts.keyExchange = groupName(sh.keyShareGroup);
        this.serverWatched = false; // everything after the ServerHello is encrypted
        this.startCertificatePhase();
      }
    } else if (m.type === HANDSHAKE_TYPE.serverKeyExchange) {
      const g = serverKeyExchangeGroup(m.body);
      if (g !== undefined) this.facts.keyExchange = groupName(g);
    } else if (m.type === HANDSHAKE_TYPE.serverHelloDone) {
      this.startCertificatePhase();
    }
  }

  private startCertificatePhase(): void {
    if (this.clientPhase !== "hello") return;
    if (this.options.inspectCertificate) this.clientPhase = "certificate";
    else this.release();
  }
}
