import type * as net from "node:net";
import * as tls from "node:tls";
import { constants } from "node:crypto";
import { newConnectionTraceId } from "./aws-ids";
import type { ClientCertPolicy } from "./client-cert";
import { connectionLogLine } from "./log-lines";
import type { LogFile } from "./log-files";
import { ClientConnection, ExchangeFactory } from "./client-connection";
import { mtlsTail } from "./forwarding";
import type { ConnectionInfo, ListenerContext } from "./listener-context";
import { HttpExchange } from "./proxy-http";
import { UpgradeExchange } from "./proxy-upgrade";
import type { TlsVersions } from "./tls-policy";

/**
 * One HTTPS listener: TLS termination with the listener's certificate and policy, the client
 * certificate checked in the handshake path (a refused client gets its connection closed right
 * after the handshake, before any HTTP byte is read or written), then HTTP and WebSocket requests,
 * each accepted connection driven by a ClientConnection.
 */

export interface ListenerTls {
  /** PEM private key. */
  readonly key: string;
  /** PEM certificate followed by its intermediates. */
  readonly cert: string;
  readonly versions: TlsVersions;
  /** Ask for a client certificate (passthrough and verify). */
  readonly requestCert: boolean;
  /** CA bundle to advertise in the CertificateRequest (advertise_trust_store_ca_names on). @default none */
  readonly advertiseCa?: string;
}

export interface ListenerServerOptions {
  readonly ctx: ListenerContext;
  readonly policy: ClientCertPolicy;
  readonly tls: ListenerTls;
  readonly connectionLog?: LogFile;
}

const ACCEPTED_AT = Symbol("alb.acceptedAt");
type RawSocket = net.Socket & { [ACCEPTED_AT]?: number };

const newExchange: ExchangeFactory = (conn, req, bodyless, rest) => (req.upgrade || req.method === "CONNECT" ? new UpgradeExchange(conn, req, rest) : new HttpExchange(conn, req, bodyless));

export class ListenerServer {
  readonly tlsServer: tls.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: ListenerServerOptions) {
    const { tls: t } = options;
    this.tlsServer = tls.createServer({
      key: t.key,
      cert: t.cert,
      minVersion: t.versions.minVersion,
      maxVersion: t.versions.maxVersion,
      requestCert: t.requestCert,
      // We verify with the shared ChainVerifier (AWS's rules), not OpenSSL's.
      rejectUnauthorized: false,
      ca: t.advertiseCa,
      // AWS: "Session resumption is not supported" with mutual TLS.
      secureOptions: t.requestCert ? constants.SSL_OP_NO_TICKET : undefined,
      // A client that half-closes after its request still gets the answer.
      allowHalfOpen: true,
    });

    this.tlsServer.on("connection", (raw: RawSocket) => {
      raw[ACCEPTED_AT] = performance.now();
      raw.setNoDelay(true);
      this.sockets.add(raw);
      raw.once("close", () => this.sockets.delete(raw));
    });
    this.tlsServer.on("secureConnection", (socket) => this.onSecure(socket));
    this.tlsServer.on("tlsClientError", (err: NodeJS.ErrnoException, socket) => this.onTlsError(err, socket));
  }

  /** Binds; rejects with the listen error (EADDRINUSE, EACCES...). Resolves the local port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.tlsServer.once("error", onError);
      this.tlsServer.listen({ host, port }, () => {
        this.tlsServer.off("error", onError);
        resolve((this.tlsServer.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tlsServer.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    if (this.tlsServer.listening || this.sockets.size > 0) await closed;
  }

  private onSecure(socket: tls.TLSSocket): void {
    const { ctx, policy, connectionLog } = this.options;
    const raw = (socket as unknown as { _parent?: RawSocket })._parent;
    const handshakeMs = raw?.[ACCEPTED_AT] !== undefined ? performance.now() - raw[ACCEPTED_AT]! : undefined;
    const outcome = policy.evaluate(socket);
    const connTraceId = newConnectionTraceId();
    const cipher = socket.getCipher()?.name ?? "-";
    const protocol = socket.getProtocol() ?? "-";
    const clientIp = socket.remoteAddress ?? "-";
    const clientPort = socket.remotePort ?? 0;
    if (connectionLog) {
      connectionLog.write(
        connectionLogLine({
          time: Date.now(),
          clientIp,
          clientPort,
          listenerPort: ctx.model.port,
          tlsProtocol: protocol,
          tlsCipher: cipher,
          handshakeMs: outcome.accepted ? handshakeMs : undefined,
          leafSubject: outcome.logSubject,
          leafValidity: outcome.logValidity,
          leafSerial: outcome.logSerial,
          verifyStatus: outcome.verifyStatus,
          connTraceId,
          elb: ctx.elbId,
          nodeIp: socket.localAddress ?? "-",
        }),
      );
    }
    if (!outcome.accepted) {
      ctx.emit({ kind: "connection-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: `${clientIp}:${clientPort}`, verifyStatus: outcome.verifyStatus, reason: outcome.detail ?? "refused" });
      socket.destroy();
      return;
    }
    const info: ConnectionInfo = {
      connTraceId,
      clientIp,
      clientPort,
      listenerPort: ctx.model.port,
      attributes: ctx.forwarding,
      client: `${clientIp}:${clientPort}`,
      mtlsHeaders: outcome.headers,
      mtlsTail: mtlsTail(outcome.headers),
      mtlsHeaderNames: ctx.mtlsHeaderNames,
      listenerLines: ctx.listenerLines,
      sslCipher: cipher,
      sslProtocol: protocol,
      servername: typeof (socket as { servername?: unknown }).servername === "string" ? (socket as unknown as { servername: string }).servername : undefined,
    };
    new ClientConnection(ctx, socket, info, newExchange);
  }

  private onTlsError(err: NodeJS.ErrnoException, socket: tls.TLSSocket): void {
    // A client that just went away is not a refusal.
    if (err.code === "ECONNRESET" || err.code === "EPIPE") return;
    const { ctx, connectionLog } = this.options;
    const clientIp = socket.remoteAddress ?? "-";
    const clientPort = socket.remotePort ?? 0;
    const status = "Failed:UnmappedConnectionError";
    connectionLog?.write(
      connectionLogLine({ time: Date.now(), clientIp, clientPort, listenerPort: ctx.model.port, leafSubject: "-", leafValidity: "-", leafSerial: "-", verifyStatus: status, connTraceId: newConnectionTraceId(), elb: ctx.elbId, nodeIp: socket.localAddress ?? "-" }),
    );
    const policy = ctx.model.sslPolicy ? ` (listener policy ${ctx.model.sslPolicy}: ${this.options.tls.versions.minVersion} to ${this.options.tls.versions.maxVersion})` : "";
    ctx.emit({ kind: "connection-refused", time: new Date().toISOString(), listenerPort: ctx.model.port, client: `${clientIp}:${clientPort}`, verifyStatus: status, reason: `TLS handshake failed: ${err.message}${policy}` });
  }
}
