import * as https from "node:https";
import { WebSocket, ClientOptions } from "ws";
import { parseServerMessage, ServerMessage } from "../../../simulator/protocol/messages";

/**
 * Small raw clients for ICG tests: a WebSocket or HTTPS request with exactly the certificate and
 * headers a test chooses (a device, a UMS, or an ALB in front), reporting a refusal as its status
 * and parsed body instead of throwing.
 */

export interface RawTls {
  /** PEM the server certificate must chain to. */
  readonly ca: string;
  /** SNI and certificate name. */
  readonly servername: string;
  /** Client certificate chain (PEM) and key, if any. */
  readonly cert?: string;
  readonly key?: string;
  readonly headers?: Record<string, string>;
}

export type UpgradeResult =
  | { readonly kind: "refused"; readonly status: number; readonly body: { error?: string; reason?: string; by?: string } }
  | { readonly kind: "open"; readonly ws: WebSocket };

/** Opens a WebSocket; resolves with the open socket or the HTTP refusal. */
export function openWs(url: string, tls: RawTls): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ca: tls.ca, servername: tls.servername, cert: tls.cert, key: tls.key, headers: tls.headers, perMessageDeflate: false } as ClientOptions);
    ws.on("open", () => resolve({ kind: "open", ws }));
    ws.on("unexpected-response", (req, res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c));
      res.on("end", () => {
        let body = {};
        try {
          body = JSON.parse(text);
        } catch {
          body = { reason: text };
        }
        resolve({ kind: "refused", status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    ws.on("error", (e) => reject(e));
  });
}

/** The first message after sending `hello`. */
export function hello(ws: WebSocket, unitId: string): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data: Buffer) => resolve(parseServerMessage(data)));
    ws.once("close", (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
    ws.send(JSON.stringify({ type: "hello", unitId, mac: "00E0C5000001", firmware: "12.7.1" }));
  });
}

/** Resolves with the close code and reason once the socket closes. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: "" });
  return new Promise((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body as JSON, or undefined. */
  readonly json: any;
}

/** One HTTPS request on a fresh connection. */
export function request(url: string, tls: RawTls, init: { method?: string; body?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: init.method ?? "GET",
        ca: tls.ca,
        servername: tls.servername,
        cert: tls.cert,
        key: tls.key,
        headers: { ...tls.headers, ...(init.body !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(init.body)) } : {}) },
        agent: false,
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c));
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}
