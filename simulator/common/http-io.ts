import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** Reading request bodies and writing JSON answers: the HTTP chores every route of the UMS and the ICG shares. */

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the request body exceeds ${limit} bytes`);
  }
}

/** The client went away before its body was complete: nobody to answer, nothing went wrong here. */
export class ClientAbortedError extends Error {}

/**
 * How much of an oversized body is still read (and discarded) before the refusal is sent, as Tomcat's
 * `maxSwallowSize` (default 2 MiB) does for the real UMS: a proxy still writing the body then reads the
 * 413 instead of a connection reset, which nginx turns into a 502 (the probe saw one, now and then).
 */
export const SWALLOW_BYTES = 2 * 1024 * 1024;

/** Reads the whole body, refusing (without buffering further) once it passes `limit` bytes; the refusal waits for the body's end, up to SWALLOW_BYTES. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const declared = Number(req.headers["content-length"]);
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    const refuse = () => reject(new BodyTooLargeError(limit));
    // Known to be too large and beyond what is swallowed: refused now (the connection is not reused).
    if (tooLarge && declared > SWALLOW_BYTES) {
      req.resume();
      return refuse();
    }
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > SWALLOW_BYTES) refuse();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => (tooLarge ? refuse() : resolve(Buffer.concat(chunks))));
    req.on("error", (e: NodeJS.ErrnoException) => reject(new ClientAbortedError(`the client's connection failed before its body was complete (${e.code ?? e.message})`)));
    req.on("close", () => {
      if (!req.complete) reject(new ClientAbortedError("the client closed its connection before its body was complete"));
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(html) });
  res.end(html);
}

const remotes = new WeakMap<object, string>();

/**
 * `ip:port` of a socket's peer, remembered the first time it is asked (call it when the connection
 * is accepted): Node forgets the address once the socket closes, and a log line written then must
 * not say `undefined:undefined`. `unknown` when the address was never known.
 */
export function remoteAddressOf(socket: Socket | { remoteAddress?: string; remotePort?: number }): string {
  let remote = remotes.get(socket);
  if (remote === undefined) {
    remote = socket.remoteAddress === undefined ? "unknown" : `${socket.remoteAddress}:${socket.remotePort ?? "?"}`;
    if (socket.remoteAddress !== undefined) remotes.set(socket, remote);
  }
  return remote;
}

/** `ip:port` of the TCP peer, plus the X-Forwarded-For chain when a proxy in front added one. */
export function remoteOf(req: IncomingMessage): { readonly remote: string; readonly forwardedFor?: string } {
  const xff = req.headers["x-forwarded-for"];
  return { remote: remoteAddressOf(req.socket), forwardedFor: Array.isArray(xff) ? xff.join(", ") : xff };
}
