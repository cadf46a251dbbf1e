import * as https from "node:https";
import type { Socket } from "node:net";
import { STATUS_CODES, IncomingMessage, ServerResponse } from "node:http";
import type { StructuredLogger } from "./logger";
import { refusalBody } from "./refusals";

/**
 * The UMS's HTTPS listener: the web certificate (as the IGEL guide exports it), a client
 * certificate requested but not required — the UMS decides per route, and in direct mode it needs
 * the TLS peer certificate — and headers large enough for a forwarded certificate chain.
 */

export interface UmsTlsMaterial {
  /** `private_key.pem` */
  readonly privateKeyPem: string;
  /** `entire_chain.pem`: the web certificate and its issuers. */
  readonly certificateChainPem: string;
  /** The device CA chain, so the handshake asks for (and Node completes) device certificates. */
  readonly deviceCaPem: string;
}

export interface UmsTlsServer {
  readonly server: https.Server;
  /** Every open socket, so stop() can end upgraded ones too. */
  readonly sockets: Set<Socket>;
}

export function createUmsTlsServer(
  material: UmsTlsMaterial,
  maxHeaderBytes: number,
  log: StructuredLogger,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): UmsTlsServer {
  const server = https.createServer(
    {
      key: material.privateKeyPem,
      cert: material.certificateChainPem,
      ca: material.deviceCaPem,
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
  // Requests Node refuses before any route sees them (headers over maxHeaderSize, garbage).
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const spec = {
      status,
      error: status === 431 ? "headers-too-large" : "malformed-request",
      reason: status === 431 ? `the request headers exceed ${maxHeaderBytes} bytes` : `the request is not valid HTTP/1.1 (${err.code ?? err.message})`,
    };
    const s = socket as Socket;
    log.warn("refused", { ...spec, remote: `${s.remoteAddress}:${s.remotePort}` });
    const body = JSON.stringify(refusalBody(spec));
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return { server, sockets };
}
