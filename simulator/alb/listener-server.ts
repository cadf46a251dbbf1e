import * as net from "node:net";
import * as tls from "node:tls";
import { constants, X509Certificate } from "node:crypto";
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
import { HandshakeFacts, HandshakeWatcher } from "./handshake-watcher";
import { handshakeFailureReason } from "./handshake-explanation";
import { cipherName, versionName } from "./tls-wire/names";

/**
 * One HTTPS listener: TCP accept, a HandshakeWatcher on the wire, TLS termination by Node (OpenSSL)
 * with the listener's certificate and exactly its security policy's protocols and ciphers, the
 * client certificate judged in the handshake (a refused client gets a TLS alert, never an HTTP
 * byte), then HTTP and WebSocket requests, each accepted connection driven by a ClientConnection.
 * Every connection that got as far as a ClientHello and did not just vanish gets one
 * connection-log line.
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

const newExchange: ExchangeFactory = (conn, req, bodyless, rest) => (req.upgrade || req.method === "CONNECT" ? new UpgradeExchange(conn, req, rest) : new HttpExchange(conn, req, bodyless));

/** One accepted TCP connection while its handshake runs. */
interface Pending {
  readonly watcher: HandshakeWatcher;
  readonly acceptedAt: number;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly nodeIp: string;
  outcome?: ClientCertOutcome;
  secured: boolean;
  opensslError?: string;
}

const KEYLOG = /^(\S+) ([0-9a-f]{64}) ([0-9a-f]+)$/i;

export class ListenerServer {
  readonly tlsServer: tls.Server;
  private readonly netServer: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Handshakes by client random (hex): OpenSSL's key log names connections by it. */
  private readonly byClientRandom = new Map<string, Pending>();
  private readonly bySocket = new WeakMap<tls.TLSSocket, Pending>();
  private readonly certificate: X509Certificate;

  constructor(private readonly options: ListenerServerOptions) {
    const { tls: t, policy } = options;
    this.certificate = new X509Certificate(t.cert);
    this.tlsServer = tls.createServer({
      key: t.key,
      cert: t.cert,
      ...tlsOptionsOf(t.policy),
      requestCert: policy.requestsCertificate,
      // The HandshakeWatcher judges certificates with AWS's rules, not OpenSSL's.
      rejectUnauthorized: false,
      ca: t.advertiseCa,
      // ELB user guide, "Security policies for your Application Load Balancer": "Application Load Balancers support SSL
      // renegotiation for target connections only" (client-initiated renegotiation is refused). "Mutual authentication
      // with TLS", Session resumption: "not supported while using mutual TLS passthrough or verify modes".
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION | (policy.requestsCertificate ? constants.SSL_OP_NO_TICKET : 0),
      allowHalfOpen: true,
    });
    this.tlsServer.on("keylog", (line: Buffer, socket: tls.TLSSocket) => this.onKeylog(line, socket));
    this.tlsServer.on("secureConnection", (socket) => this.onSecure(socket));
    this.tlsServer.on("tlsClientError", (err: Error, socket: tls.TLSSocket) => {
      const p = this.bySocket.get(socket);
      if (p) p.opensslError = err.message;
    });
    // A client that half-closes after its request still gets the answer.
    this.netServer = net.createServer({ allowHalfOpen: true }, (raw) => this.onConnection(raw));
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
    raw.once("close", () => this.sockets.delete(raw));
    let random: string | undefined;
    const watcher: HandshakeWatcher = new HandshakeWatcher(raw, {
      inspectCertificate: this.options.policy.requestsCertificate,
      onClientHello: (hello) => {
        random = hello.random.toString("hex");
        this.byClientRandom.set(random, pending);
      },
      judge: (presented, facts) => this.judge(pending, presented, facts),
    });
    const pending: Pending = { watcher, acceptedAt: performance.now(), clientIp: raw.remoteAddress ?? "-", clientPort: raw.remotePort ?? 0, nodeIp: raw.localAddress ?? "-", secured: false };
    watcher.once("close", () => {
      if (random !== undefined && this.byClientRandom.get(random) === pending) this.byClientRandom.delete(random);
      if (!pending.secured && watcher.facts.refusedWith === undefined) this.onHandshakeFailed(pending);
    });
    this.tlsServer.emit("connection", watcher);
  }

  private onKeylog(line: Buffer, socket: tls.TLSSocket): void {
    const m = KEYLOG.exec(line.toString("latin1").trim());
    const pending = m ? this.byClientRandom.get(m[2].toLowerCase()) : undefined;
    if (!m || !pending) return;
    this.bySocket.set(socket, pending);
    pending.watcher.acceptSecret(m[1], Buffer.from(m[3], "hex"));
  }

  /** The client's certificate flight: judged by the listener's policy; an alert refuses it. */
  private judge(pending: Pending, presented: Buffer[], facts: HandshakeFacts): number | undefined {
    const outcome = this.options.policy.evaluate(presented);
    pending.outcome = outcome;
    if (outcome.accepted) return undefined;
    const sh = facts.serverHello!;
    this.logConnection(pending, { protocol: versionName(sh.version), cipher: cipherName(sh.cipherSuite), keyExchange: facts.keyExchange, outcome, connTraceId: newConnectionTraceId() });
    this.emitRefusal(pending, outcome.verifyStatus, outcome.detail ?? "refused");
    return refusalAlert(outcome.refusal!, sh.version === 0x0304);
  }

  private onSecure(socket: tls.TLSSocket): void {
    const pending = this.bySocket.get(socket);
    if (!pending) return void socket.destroy(); // no key log line: not a connection this listener accepted
    pending.secured = true;
    const { ctx, policy } = this.options;
    const facts = pending.watcher.facts;
    const outcome = pending.outcome ?? policy.evaluate(facts.presented ?? []);
    const connTraceId = newConnectionTraceId();
    const cipher = socket.getCipher()?.name ?? "-";
    const protocol = socket.getProtocol() ?? "-";
    this.logConnection(pending, { protocol, cipher, keyExchange: facts.keyExchange, outcome, connTraceId, handshakeMs: performance.now() - pending.acceptedAt });
    if (!outcome.accepted) {
      // A certificate the watcher could not read (OpenSSL took it): refused after the handshake.
      this.emitRefusal(pending, outcome.verifyStatus, outcome.detail ?? "refused");
      return void socket.destroy();
    }
    const sni = facts.clientHello?.serverName;
    const info: ConnectionInfo = {
      connTraceId,
      clientIp: pending.clientIp,
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

  private onHandshakeFailed(pending: Pending): void {
    const facts = pending.watcher.facts;
    // A client that went away without a word is not a refusal (as before: resets are not logged).
    if (!facts.notTls && facts.alertFromServer === undefined && facts.alertFromClient === undefined && pending.outcome === undefined) return;
    if (!facts.clientHello && !facts.notTls) return;
    const sh = facts.serverHello;
    const outcome: ClientCertOutcome = { ...(pending.outcome ?? { headers: [], logSubject: "-", logValidity: "-", logSerial: "-", accepted: false }), accepted: false, verifyStatus: "Failed:UnmappedConnectionError" };
    this.logConnection(pending, { protocol: sh ? versionName(sh.version) : "-", cipher: sh ? cipherName(sh.cipherSuite) : "-", keyExchange: facts.keyExchange, outcome, connTraceId: newConnectionTraceId() });
    this.emitRefusal(pending, outcome.verifyStatus, `TLS handshake failed: ${handshakeFailureReason(facts, this.options.tls.policy, pending.opensslError)}`);
  }

  private logConnection(pending: Pending, c: { protocol: string; cipher: string; keyExchange: string; outcome: ClientCertOutcome; connTraceId: string; handshakeMs?: number }): void {
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
