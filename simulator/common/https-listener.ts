import * as https from "node:https";
import type { Socket } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StructuredLogger } from "./structured-log";
import { rawRefusal } from "./refusal-responses";
import { remoteAddressOf } from "./http-io";

/**
 * The device-facing HTTPS listener of the UMS and the ICG: its certificate, a client certificate
 * requested but not required (onboarding has none yet; the routes decide, and explain a refusal
 * instead of failing the handshake), and headers large enough for a forwarded certificate chain.
 */

export interface HttpsListenerOptions {
  /** PEM private key of the server certificate. */
  readonly privateKeyPem: string;
  /** PEM server certificate and its issuers. */
  readonly certificateChainPem: string;
  /** CA certificates named in the certificate request (Node also completes client chains with them). */
  readonly caPem: string;
  /** Largest request head accepted; larger ones are refused with 431. */
  readonly maxHeaderBytes: number;
  readonly log: StructuredLogger;
  /** Who refuses malformed requests, in their refusal bodies: ums, icg. */
  readonly by: string;
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface HttpsListener {
  readonly server: https.Server;
  /** Every open socket, so stop() can end upgraded ones too. */
  readonly sockets: Set<Socket>;
  /** Replaces the CA names of the certificate request (new handshakes only). */
  trust(caPem: string): void;
}

export function createHttpsListener(o: HttpsListenerOptions): HttpsListener {
  const server = https.createServer(
    {
      key: o.privateKeyPem,
      cert: o.certificateChainPem,
      ca: o.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      maxHeaderSize: o.maxHeaderBytes,
    },
    o.onRequest,
  );
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    remoteAddressOf(socket); // remembered now: Node forgets it once the socket closes
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("secureConnection", (socket: Socket) => void remoteAddressOf(socket));
  server.on("tlsClientError", (err, socket) => {
    o.log.info("tls-handshake-failed", { remote: remoteAddressOf((socket as unknown as { _parent?: Socket })._parent ?? socket), error: err.message, code: (err as NodeJS.ErrnoException).code });
  });
  // Requests Node refuses before any route sees them (headers over maxHeaderSize, garbage).
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const spec = {
      status,
      error: status === 431 ? "headers-too-large" : "malformed-request",
      reason: status === 431 ? `the request headers exceed ${o.maxHeaderBytes} bytes` : `the request is not valid HTTP/1.1 (${err.code ?? err.message})`,
      by: o.by,
    };
    o.log.warn("refused", { ...spec, remote: remoteAddressOf(socket as Socket) });
    socket.end(rawRefusal(spec));
  });
  return {
    server,
    sockets,
    trust: (caPem) => server.setSecureContext({ key: o.privateKeyPem, cert: o.certificateChainPem, ca: caPem }),
  };
}
