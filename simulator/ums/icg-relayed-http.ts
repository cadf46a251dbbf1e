import * as http from "node:http";
import { Duplex } from "node:stream";

/**
 * Serves a request relayed by the ICG with the UMS's own request handler — the same router,
 * onboarding handler and refusals as a direct device — through an HTTP server that never listens:
 * each request gets an in-memory connection. Nothing connects in to the UMS.
 */

export interface RelayedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Who the UMS's logs name as the peer: the ICG. */
  readonly peer: { readonly address: string; readonly port: number };
}

export interface RelayedAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** One end of an in-memory byte pipe: what it writes, the other end reads. */
class PipeEnd extends Duplex {
  other?: PipeEnd;
  remoteAddress?: string;
  remotePort?: number;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.other?.push(chunk);
    callback();
  }
  override _final(callback: (error?: Error | null) => void): void {
    this.other?.push(null);
    callback();
  }
  override _read(): void {
    // data is pushed by the other end
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.other && !this.other.destroyed) this.other.destroy();
    callback(error);
  }
  // What http.Server asks of a socket beyond a stream.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

function pipePair(): [PipeEnd, PipeEnd] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}

export class InMemoryHttp {
  private readonly server: http.Server;

  constructor(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    this.server = http.createServer(handler);
  }

  request(r: RelayedRequest, timeoutMs: number): Promise<RelayedAnswer> {
    const [client, server] = pipePair();
    server.remoteAddress = r.peer.address;
    server.remotePort = r.peer.port;
    this.server.emit("connection", server);
    return new Promise((resolve, reject) => {
      const req = http.request(
        { createConnection: () => client as unknown as import("node:net").Socket, method: r.method, path: r.path, headers: { ...r.headers, "content-length": String(r.body.length) }, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
            resolve({ status: res.statusCode ?? 500, headers, body: Buffer.concat(chunks) });
            client.destroy();
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`the UMS did not answer the relayed request within ${timeoutMs} ms`)));
      req.on("error", (e) => {
        client.destroy();
        reject(e);
      });
      req.end(r.body);
    });
  }
}
