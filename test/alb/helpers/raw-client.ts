import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import type { CertificateFiles } from "../../../simulator/pki/lab-pki";

/**
 * A raw HTTP/1.1 client over one TLS connection, for what Node's http client will not do:
 * pipelining, hand-made heads, interim responses, half-closes. Responses are read with its own
 * small parser (Content-Length, chunked, or up to the close), independent of the emulator's.
 */
export interface RawResponse {
  readonly status: number;
  /** Lower-case name → value (repeated names joined with ", "). */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export class RawClient {
  private buf = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | undefined;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: tls.TLSSocket,
    private readonly tcp: net.Socket,
  ) {
    socket.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.waiter?.();
        resolve();
      }),
    );
    socket.on("error", () => undefined);
  }

  static connect(url: string, cert?: CertificateFiles): Promise<RawClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const tcp = net.connect(Number(u.port), u.hostname);
      const s = tls.connect({ socket: tcp, rejectUnauthorized: false, ...(cert ? { key: fs.readFileSync(cert.key), cert: fs.readFileSync(cert.chain) } : {}) }, () => resolve(new RawClient(s, tcp)));
      s.once("error", reject);
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next response (interim ones included); `head`: the request was HEAD (no body). */
  async next(o: { head?: boolean } = {}): Promise<RawResponse> {
    for (;;) {
      const r = this.take(o.head ?? false);
      if (r) return r;
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.toString("latin1").slice(0, 200))}`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  /** Drops the connection with a TCP reset, as a client that crashed or lost its network. */
  reset(): void {
    this.tcp.resetAndDestroy();
    this.socket.destroy();
  }

  private take(headOnly: boolean): RawResponse | undefined {
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const lines = this.buf.toString("latin1", 0, end).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])![1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      const k = l.slice(0, i).toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let at = end + 4;
    let body: Buffer;
    if (headOnly || status < 200 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      const parts: Buffer[] = [];
      for (;;) {
        const nl = this.buf.indexOf("\r\n", at);
        if (nl < 0) return undefined;
        const size = parseInt(this.buf.toString("latin1", at, nl).split(";")[0], 16);
        if (size === 0) {
          const fin = this.buf.indexOf("\r\n\r\n", nl - 2);
          if (fin < 0) return undefined;
          at = fin + 4;
          break;
        }
        if (this.buf.length < nl + 2 + size + 2) return undefined;
        parts.push(this.buf.subarray(nl + 2, nl + 2 + size));
        at = nl + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      if (this.buf.length < at + n) return undefined;
      body = this.buf.subarray(at, at + n);
      at += n;
    } else {
      if (!this.ended) return undefined;
      body = this.buf.subarray(at);
      at = this.buf.length;
    }
    const r = { status, headers, body: Buffer.from(body) };
    this.buf = this.buf.subarray(at);
    return r;
  }
}
