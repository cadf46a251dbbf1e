import * as fs from "node:fs";
import * as tls from "node:tls";
import type { AddressInfo, Socket } from "node:net";
import type { LabPki } from "../../../simulator/pki/lab-pki";

/**
 * An HTTPS target that answers with whatever bytes a test writes, for responses Node's server
 * will not produce (a body up to the close, a keep-alive connection dropped without an answer).
 * Requests are read naively (heads, Content-Length bodies); each TLS connection has a number.
 */
export interface RawRequest {
  readonly head: string;
  readonly path: string;
  readonly body: Buffer;
  /** The TLS connection's number (1, 2, ... in accept order) and the request's number on it. */
  readonly connection: number;
  readonly index: number;
}

export interface RawTarget {
  readonly address: string;
  readonly requests: RawRequest[];
  close(): Promise<void>;
}

export async function startRawTarget(pki: LabPki, answer: (req: RawRequest, socket: tls.TLSSocket) => void): Promise<RawTarget> {
  const sockets = new Set<Socket>();
  const requests: RawRequest[] = [];
  let connections = 0;
  const server = tls.createServer({ key: fs.readFileSync(pki.web.privateKey), cert: fs.readFileSync(pki.web.entireChain) }, (socket) => {
    const connection = ++connections;
    let index = 0;
    let buf = Buffer.alloc(0);
    socket.on("error", () => undefined);
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.toString("latin1", 0, end + 4);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const req = { head, path: head.split(" ")[1], body: buf.subarray(end + 4, end + 4 + length), connection, index: ++index };
        buf = buf.subarray(end + 4 + length);
        requests.push(req);
        answer(req, socket);
      }
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
