import * as https from "node:https";
import type { Socket } from "node:net";
import { STATUS_CODES, IncomingMessage, ServerResponse } from "node:http";
import type { StructuredLogger } from "../protocol/structured-log";
import { refusalBody } from "./refusals";

/**
 * The ICG's one HTTPS listener, for devices and the UMS alike: its own certificate, a client
 * certificate requested but not required (onboarding has none yet), and verification left to the
 * routes, which explain a refusal instead of failing the handshake. The CA names it sends start
 * as the UMS web root and gain the device CA once a UMS has registered (see `trust`).
 */

export interface IcgTlsMaterial {
  readonly privateKeyPem: string;
  /** The ICG certificate and its issuers. */
  readonly certificateChainPem: string;
  /** CA certificates named in the certificate request (the UMS web root; later also the device CA). */
  readonly caPem: string;
}

export interface IcgTlsServer {
  readonly server: https.Server;
  /** Every open socket, so stop() can end upgraded ones too. */
  readonly sockets: Set<Socket>;
  /** Replaces the CA names of the certificate request (new handshakes only). */
  trust(caPem: string): void;
}

export function createIcgTlsServer(material: IcgTlsMaterial, maxHeaderBytes: number, log: StructuredLogger, onRequest: (req: IncomingMessage, res: ServerResponse) => void): IcgTlsServer {
  const server = https.createServer(
    {
      key: material.privateKeyPem,
      cert: material.certificateChainPem,
      ca: material.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      maxHeaderSize: maxHeaderBytes,
    },
    onRequest,
  );
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", (err, socket) => {
    log.info("tls-handshake-failed", { remote: `${socket.remoteAddress}:${socket.remotePort}`, error: err.message, code: (err as NodeJS.ErrnoException).code });
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const spec = {
      status,
      error: status === 431 ? "headers-too-large" : "malformed-request",
      reason: status === 431 ? `the request headers exceed ${maxHeaderBytes} bytes` : `the request is not valid HTTP/1.1 (${err.code ?? err.message})`,
    };
    const s = socket as Socket;
    log.warn("refused", { ...spec, by: "icg", remote: `${s.remoteAddress}:${s.remotePort}` });
    const body = JSON.stringify(refusalBody(spec));
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return {
    server,
    sockets,
    trust: (caPem) => server.setSecureContext({ key: material.privateKeyPem, cert: material.certificateChainPem, ca: caPem }),
  };
}
