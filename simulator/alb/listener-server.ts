import * as http from "node:http";
import type * as net from "node:net";
import * as tls from "node:tls";
import { constants } from "node:crypto";
import { newConnectionTraceId } from "./aws-ids";
import type { ClientCertPolicy } from "./client-cert";
import { connectionLogLine } from "./log-lines";
import type { LogFile } from "./log-files";
import { CONNECTION_INFO, ConnectionInfo, ListenerContext, SocketWithInfo } from "./listener-context";
import { proxyRequest } from "./proxy-http";
import { proxyUpgrade } from "./proxy-upgrade";
import type { TlsVersions } from "./tls-policy";

/**
 * One HTTPS listener: TLS termination with the listener's certificate and policy, the client
 * certificate checked in the handshake path (a refused client gets its connection closed right
 * after the handshake, before any HTTP byte is read or written), then HTTP and WebSocket requests.
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

export class ListenerServer {
  readonly tlsServer: tls.Server;
  private readonly httpServer: http.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: ListenerServerOptions) {
    const { ctx, tls: t } = options;
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
    });
    this.httpServer = http.createServer();
    this.httpServer.keepAliveTimeout = ctx.idleTimeoutMs;
    this.httpServer.headersTimeout = ctx.idleTimeoutMs + 1000;
    this.httpServer.on("request", (req, res) => proxyRequest(ctx, req, res));
    this.httpServer.on("upgrade", (req, socket, head) => proxyUpgrade(ctx, req, socket, head));
    this.httpServer.on("clientError", (_e, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nServer: awselb/2.0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      else socket.destroy();
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
    this.httpServer.closeAllConnections?.();
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
      client: `${clientIp}:${clientPort}`,
      mtlsHeaders: outcome.headers,
      sslCipher: cipher,
      sslProtocol: protocol,
      servername: typeof (socket as { servername?: unknown }).servername === "string" ? (socket as unknown as { servername: string }).servername : undefined,
    };
    (socket as unknown as SocketWithInfo)[CONNECTION_INFO] = info;
    this.httpServer.emit("connection", socket);
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
