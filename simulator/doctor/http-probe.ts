import * as https from "node:https";
import { isIP } from "node:net";
import WebSocket from "ws";
import type { TlsTarget } from "./tls-probe";

export interface HttpAnswer {
  readonly status?: number;
  readonly contentType?: string;
  /** The first 512 characters of the body. */
  readonly body?: string;
  readonly error?: string;
}

/** The same target as a TLS probe's: host, port, SNI name, optional client certificate. */
export type HttpTarget = TlsTarget;

/** One GET, certificate checks off (the doctor reports on the certificate separately). */
export function httpGet(target: HttpTarget, path: string): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: target.host,
        port: target.port,
        // SNI carries names only (RFC 6066), never an address.
      servername: isIP(target.servername) ? undefined : target.servername,
        path,
        method: "GET",
        headers: { host: target.servername, "user-agent": "ums-edge-doctor" },
        rejectUnauthorized: false,
        cert: target.cert,
        key: target.key,
        agent: false,
        timeout: target.timeoutMs ?? 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 512) body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode, contentType: res.headers["content-type"], body: body.slice(0, 512) }));
        res.on("error", (e) => resolve({ status: res.statusCode, error: e.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

export interface UpgradeAnswer {
  readonly upgraded: boolean;
  /** The HTTP status when the server answered without upgrading (or 101). */
  readonly status?: number;
  readonly contentType?: string;
  readonly error?: string;
}

/** Tries a WebSocket upgrade (the device management path) and closes it at once. */
export function tryWebSocket(target: HttpTarget, path: string): Promise<UpgradeAnswer> {
  return new Promise((resolve) => {
    // ws hands TLS options (servername included) through to https.request.
    const options = {
      // SNI carries names only (RFC 6066), never an address.
      servername: isIP(target.servername) ? undefined : target.servername,
      headers: { host: target.servername },
      rejectUnauthorized: false,
      cert: target.cert,
      key: target.key,
      handshakeTimeout: target.timeoutMs ?? 5000,
    } as WebSocket.ClientOptions;
    const ws = new WebSocket(`wss://${target.host}:${target.port}${path}`, options);
    ws.on("open", () => {
      ws.close();
      resolve({ upgraded: true, status: 101 });
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve({ upgraded: false, status: res.statusCode, contentType: res.headers["content-type"] });
      ws.terminate();
    });
    ws.on("error", (e: NodeJS.ErrnoException) => resolve({ upgraded: false, error: e.code ?? e.message }));
  });
}
