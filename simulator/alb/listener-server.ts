import * as net from "node:net";
import * as tls from "node:tls";
import { constants, X509Certificate } from "node:crypto";
import { peerChain } from "../common/client-cert-source";
import { newConnectionTraceId } from "./aws-ids";
import { ClientCertOutcome, ClientCertPolicy, refusalAlert } from "./client-cert";
import { connectionLogLine } from "./log-lines";
import type { LogFile } from "./log-files";
import { ClientConnection, ExchangeFactory } from "./client-connection";
import { mtlsTail } from "./forwarding";
import type { ConnectionInfo, ListenerContext } from "./listener-context";
import { HttpExchange } from "./proxy-http";
import { UpgradeExchange } from "./proxy-upgrade";
import { SecurityPolicy, tlsOptionsOf } from "./tls-policy";
import { peekClientHello } from "./client-hello-peek";
import { HandshakeFacts, HandshakeWatcher } from "./handshake-watcher";
import { handshakeFailureReason } from "./handshake-explanation";
import { chosenGroup } from "./key-exchange";
import type { ClientHello } from "./tls-wire/hellos";
import { cipherCode, cipherName, versionName } from "./tls-wire/names";
import { sealedAlert } from "./tls-wire/alerts";
import { trafficKeys } from "./tls-wire/tls13-protection";

/**
 * One HTTPS listener: TCP accept, the client's ClientHello read first, TLS termination by Node
 * (OpenSSL) with the listener's certificate and exactly its security policy's protocols and
 * ciphers, the client certificate judged by AWS's rules (a refused client gets a TLS alert, never
 * an HTTP byte), then HTTP and WebSocket requests, each accepted connection driven by a
 * ClientConnection. Every connection that sent a ClientHello and did not just vanish gets one
 * connection-log line.
 *
 * Two ways through the handshake, chosen from the ClientHello: a TLS 1.2 (or older) handshake on a
 * listener that asks for certificates goes through a HandshakeWatcher, which judges the chain the
 * client sent before OpenSSL answers and refuses with an alert in the clear; every other one (TLS
 * 1.3 above all) is Node's alone, reading the socket directly, with the certificate judged once the
 * handshake is done (as OpenSSL rebuilt the chain) and a refusal sealed with the server's traffic
 * keys, which OpenSSL's key log hands over.
 */

export interface ListenerTls {
  /** PEM private key. */
  readonly key: string;
  /** PEM certificate followed by its intermediates. */
  readonly cert: string;
  readonly policy: SecurityPolicy;
  /** CA bundle to advertise in the CertificateRequest (advertise_trust_store_ca_names on). @default none */
  readonly advertiseCa?: string;
}

export interface ListenerServerOptions {
  readonly ctx: ListenerContext;
  readonly policy: ClientCertPolicy;
  readonly tls: ListenerTls;
  readonly connectionLog?: LogFile;
}

/** The listener's TLS context: its certificate, the security policy's protocols and ciphers, the CA names it advertises. */
function secureContextOf(t: ListenerTls, policy: ClientCertPolicy): tls.SecureContextOptions {
  return {
    key: t.key,
    cert: t.cert,
    ...tlsOptionsOf(t.policy),
    ca: t.advertiseCa,
    // ELB user guide, "Security policies for your Application Load Balancer": "Application Load Balancers support SSL
    // renegotiation for target connections only" (client-initiated renegotiation is refused). "Mutual authentication
    // with TLS", Session resumption: "not supported while using mutual TLS passthrough or verify modes".
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION | (policy.requestsCertificate ? constants.SSL_OP_NO_TICKET : 0),
  };
}

const newExchange: ExchangeFactory = (conn, req, bodyless, rest) => (req.upgrade || req.method === "CONNECT" ? new UpgradeExchange(conn, req, rest) : new HttpExchange(conn, req, bodyless));

/** One accepted TCP connection while its handshake runs. */
interface Pending {
  readonly raw: net.Socket;
  readonly acceptedAt: number;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly nodeIp: string;
  hello?: ClientHello;
  watcher?: HandshakeWatcher;
  outcome?: ClientCertOutcome;
  /** TLS 1.3: the server's application traffic secret, to seal a refusal with. */
  serverSecret?: Buffer;
  secured: boolean;
  /** Its connection-log line is written. */
  logged: boolean;
  opensslError?: string;
}

const KEYLOG = /^(\S+) ([0-9a-f]{64}) ([0-9a-f]+)$/i;
const TLS13 = 0x0304;
/**
 * Records sent under the TLS 1.3 server application keys when Node reports the handshake done:
 * none. OpenSSL's NewSessionTickets (sent even with SSL_OP_NO_TICKET, as stateful tickets no
 * session cache resumes) reach the socket only after the 'secureConnection' handlers have run, so
 * an alert written from one is the first record the client reads under those keys (measured with
 * OpenSSL 3.0's s_client and Node clients; a wrong count shows as bad_record_mac in test/alb).
 */
const TLS13_RECORDS_BEFORE_SECURE = 0;
/** A refused client gets this long to read the alert before its connection is dropped. */
const LINGER_MS = 2000;

export class ListenerServer {
  readonly tlsServer: tls.Server;
  private readonly netServer: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Handshakes by client random (hex): OpenSSL's key log names connections by it. */
  private readonly byClientRandom = new Map<string, Pending>();
  /** Handshakes Node reads directly, by the client's address (what Node's TLS socket knows of them). */
  private readonly byPeer = new Map<string, Pending>();
  private readonly bySocket = new WeakMap<tls.TLSSocket, Pending>();
  private certificate: X509Certificate;
  /** The certificate, key and trust store of new handshakes (update() replaces them; sessions keep theirs). */
  private options: ListenerServerOptions;

  constructor(options: ListenerServerOptions) {
    this.options = options;
    const { tls: t, policy } = options;
    this.certificate = new X509Certificate(t.cert);
    this.tlsServer = tls.createServer({
      ...secureContextOf(t, policy),
      requestCert: policy.requestsCertificate,
      // Certificates are judged with AWS's rules (client-cert.ts), not OpenSSL's.
      rejectUnauthorized: false,
      allowHalfOpen: true,
    });
    this.tlsServer.on("keylog", (line: Buffer, socket: tls.TLSSocket) => this.onKeylog(line, socket));
    this.tlsServer.on("secureConnection", (socket) => this.onSecure(socket));
    this.tlsServer.on("tlsClientError", (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      const p = this.bySocket.get(socket) ?? this.byPeer.get(`${socket.remoteAddress}:${socket.remotePort}`);
      if (p && err.code !== "ECONNRESET" && err.code !== "EPIPE") p.opensslError = err.message;
    });
    // A client that half-closes after its request still gets the answer.
    this.netServer = net.createServer({ allowHalfOpen: true }, (raw) => this.onConnection(raw));
  }

  /**
   * A changed stack, applied in place: handshakes from now on get the new certificate (an ACM
   * re-import keeps the listener's certificate ARN) and are judged by the new trust store and its
   * revocations (ModifyTrustStore, AddTrustStoreRevocations); connections already established are
   * left as they are (scenarios/assumptions.ts "trust-store-update-sessions"). The mTLS mode stays:
   * whether a listener asks for a certificate is a property of the TLS server.
   */
  update(next: { readonly tls: ListenerTls; readonly policy: ClientCertPolicy }): void {
    if (next.policy.requestsCertificate !== this.options.policy.requestsCertificate) {
      throw new Error(`listener ${this.options.ctx.model.port}: the mTLS mode changed; restart the emulator to apply it`);
    }
    this.tlsServer.setSecureContext(secureContextOf(next.tls, next.policy));
    this.certificate = new X509Certificate(next.tls.cert);
    this.options = { ...this.options, tls: next.tls, policy: next.policy };
  }

  /** Binds; rejects with the listen error (EADDRINUSE, EACCES...). Resolves the local port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.netServer.once("error", onError);
      this.netServer.listen({ host, port }, () => {
        this.netServer.off("error", onError);
        resolve((this.netServer.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.netServer.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    if (this.netServer.listening || this.sockets.size > 0) await closed;
  }

  private onConnection(raw: net.Socket): void {
    raw.setNoDelay(true);
    this.sockets.add(raw);
    const pending: Pending = { raw, acceptedAt: performance.now(), clientIp: raw.remoteAddress ?? "-", clientPort: raw.remotePort ?? 0, nodeIp: raw.localAddress ?? "-", secured: false, logged: false };
    const peer = `${pending.clientIp}:${pending.clientPort}`;
    let random: string | undefined;
    raw.once("close", () => {
      this.sockets.delete(raw);
      this.byPeer.delete(peer);
      if (random !== undefined) this.byClientRandom.delete(random);
      if (!pending.secured && !pending.logged) this.onHandshakeFailed(pending);
    });
    peekClientHello(raw, ({ bytes, hello }) => {
      if (raw.destroyed) return;
      pending.hello = hello;
      if (hello) this.byClientRandom.set((random = hello.random.toString("hex")), pending);
      if (hello && this.options.policy.requestsCertificate && !this.negotiatesTls13(hello)) {
        pending.watcher = new HandshakeWatcher(raw, bytes, { judge: (presented, facts) => this.judge(pending, presented, facts) });
        this.tlsServer.emit("connection", pending.watcher);
      } else {
        this.byPeer.set(peer, pending);
        raw.unshift(bytes);
        this.tlsServer.emit("connection", raw);
      }
    });
  }

  /** OpenSSL picks the highest version both sides offer. */
  private negotiatesTls13(hello: ClientHello): boolean {
    return hello.versions.includes(TLS13) && this.options.tls.policy.protocols.includes("TLSv1.3");
  }

  private onKeylog(line: Buffer, socket: tls.TLSSocket): void {
    const m = KEYLOG.exec(line.toString("latin1").trim());
    const pending = m ? this.byClientRandom.get(m[2].toLowerCase()) : undefined;
    if (!m || !pending) return;
    this.bySocket.set(socket, pending);
    if (m[1] === "SERVER_TRAFFIC_SECRET_0") pending.serverSecret = Buffer.from(m[3], "hex");
  }

  /** A TLS 1.2 client's certificate flight, read by the watcher: judged; an alert refuses it. */
  private judge(pending: Pending, presented: Buffer[], facts: HandshakeFacts): number | undefined {
    const outcome = this.options.policy.evaluate(presented);
    pending.outcome = outcome;
    if (outcome.accepted) return undefined;
    const sh = facts.serverHello!;
    this.refused(pending, outcome, versionName(sh.version), cipherName(sh.cipherSuite), facts.keyExchange);
    return refusalAlert(outcome.refusal!, false);
  }

  private refused(pending: Pending, outcome: ClientCertOutcome, protocol: string, cipher: string, keyExchange: string): void {
    this.logConnection(pending, { protocol, cipher, keyExchange, outcome, connTraceId: newConnectionTraceId() });
    this.emitRefusal(pending, outcome.verifyStatus, outcome.detail ?? "refused");
  }

  private onSecure(socket: tls.TLSSocket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const pending = this.bySocket.get(socket) ?? this.byPeer.get(peer);
    if (!pending) return void socket.destroy(); // not a connection this listener accepted
    pending.secured = true;
    // Found: the handshake's lookups are done. A connection held for hours keeps none of it.
    this.byPeer.delete(peer);
    if (pending.hello) this.byClientRandom.delete(pending.hello.random.toString("hex"));
    const { ctx, policy } = this.options;
    const cipher = socket.getCipher()?.name ?? "-";
    const protocol = socket.getProtocol() ?? "-";
    const watched = pending.watcher?.facts;
    const keyExchange = watched?.serverHello ? watched.keyExchange : pending.hello ? chosenGroup(pending.hello, protocol, cipher) : "-";
    // Judged by the watcher (TLS 1.2), or now, on the chain as OpenSSL rebuilt it from what the client sent.
    const outcome = pending.outcome ?? policy.evaluate(policy.requestsCertificate ? peerChain(socket).map((c) => c.raw) : []);
    if (!outcome.accepted) {
      this.refused(pending, outcome, protocol, cipher, keyExchange);
      return this.refuseAfterHandshake(socket, pending, refusalAlert(outcome.refusal!, protocol === "TLSv1.3"));
    }
    const connTraceId = newConnectionTraceId();
    this.logConnection(pending, { protocol, cipher, keyExchange, outcome, connTraceId, handshakeMs: performance.now() - pending.acceptedAt });
    const sni = pending.hello?.serverName;
    const info: ConnectionInfo = {
      connTraceId,
      clientIp: pending.clientIp,
      clientPort: pending.clientPort,
      listenerPort: ctx.model.port,
      attributes: ctx.forwarding,
      client: `${pending.clientIp}:${pending.clientPort}`,
      mtlsHeaders: outcome.headers,
      mtlsTail: mtlsTail(outcome.headers),
      mtlsHeaderNames: ctx.mtlsHeaderNames,
      listenerLines: ctx.listenerLines,
      sslCipher: cipher,
      sslProtocol: protocol,
      servername: sni,
      // ELB user guide, "Access logs for your Application Load Balancer": domain_name is "-" when "the domain doesn't match
      // a certificate and the default certificate is presented"; chosen_cert_arn is "session-reused" when the session is reused.
      domainName: sni !== undefined && this.certificate.checkHost(sni) !== undefined ? sni : undefined,
      chosenCertArn: socket.isSessionReused() ? "session-reused" : ctx.certificateArn,
    };
    new ClientConnection(ctx, socket, info, newExchange);
  }

  /**
   * TLS 1.3: the client has sent its Finished and thinks the handshake done; the refusal is the next
   * record under the server's application keys, as any TLS 1.3 server refuses a certificate. The
   * connection is then drained (so the client reads the alert, not a reset) and closed.
   */
  private refuseAfterHandshake(socket: tls.TLSSocket, pending: Pending, alert: number): void {
    const suite = cipherCode(socket.getCipher()?.name ?? "");
    const keys = pending.serverSecret && suite !== undefined && socket.getProtocol() === "TLSv1.3" ? trafficKeys(suite, pending.serverSecret) : undefined;
    if (!keys) return void socket.destroy();
    socket.on("error", () => undefined);
    socket.on("data", () => undefined);
    socket.setTimeout(LINGER_MS, () => socket.destroy());
    socket.once("end", () => socket.destroy());
    pending.raw.end(sealedAlert(alert, keys, TLS13_RECORDS_BEFORE_SECURE));
  }

  private onHandshakeFailed(pending: Pending): void {
    const watched = pending.watcher?.facts;
    const heard = watched?.alertFromServer !== undefined || watched?.alertFromClient !== undefined || pending.opensslError !== undefined;
    // A client that went away without a word is not a refusal (resets are not logged); one that was not speaking TLS is.
    if (pending.hello ? !heard : pending.opensslError === undefined) return;
    const sh = watched?.serverHello;
    const outcome: ClientCertOutcome = { ...(pending.outcome ?? { headers: [], logSubject: "-", logValidity: "-", logSerial: "-" }), accepted: false, verifyStatus: "Failed:UnmappedConnectionError" };
    this.logConnection(pending, { protocol: sh ? versionName(sh.version) : "-", cipher: sh ? cipherName(sh.cipherSuite) : "-", keyExchange: watched?.keyExchange ?? "-", outcome, connTraceId: newConnectionTraceId() });
    this.emitRefusal(pending, outcome.verifyStatus, `TLS handshake failed: ${handshakeFailureReason(pending.hello, watched, this.options.tls.policy, pending.opensslError)}`);
  }

  private logConnection(pending: Pending, c: { protocol: string; cipher: string; keyExchange: string; outcome: ClientCertOutcome; connTraceId: string; handshakeMs?: number }): void {
    pending.logged = true;
    const { ctx, connectionLog } = this.options;
    connectionLog?.write(
      connectionLogLine({
        time: Date.now(),
        clientIp: pending.clientIp,
        clientPort: pending.clientPort,
        listenerPort: ctx.model.port,
        tlsProtocol: c.protocol,
        tlsCipher: c.cipher,
        handshakeMs: c.outcome.accepted ? c.handshakeMs : undefined,
        leafSubject: c.outcome.logSubject,
        leafValidity: c.outcome.logValidity,
        leafSerial: c.outcome.logSerial,
        verifyStatus: c.outcome.verifyStatus,
        connTraceId: c.connTraceId,
        tlsKeyExchange: c.keyExchange,
        elb: ctx.elbId,
        nodeIp: pending.nodeIp,
      }),
    );
  }

  private emitRefusal(pending: Pending, verifyStatus: string, reason: string): void {
    const { ctx } = this.options;
    ctx.emit({ kind: "connection-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: `${pending.clientIp}:${pending.clientPort}`, verifyStatus, reason });
  }
}
