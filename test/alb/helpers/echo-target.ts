import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer } from "ws";
import type { LabPki } from "../../../simulator/pki/lab-pki";

/**
 * A small HTTPS target for ALB tests: answers every request with the headers it received (JSON),
 * serves a controllable health path, can hang (/hang) or reset (/reset), and echoes WebSocket
 * messages (after first sending the upgrade request's headers).
 */
export interface EchoReply {
  readonly method: string;
  readonly url: string;
  /** Lower-case header name → value (repeated headers joined with ", "). */
  readonly headers: Record<string, string>;
  /** Header names as received, in order. */
  readonly rawNames: string[];
  readonly body: string;
  readonly target: string;
}

export interface EchoTarget {
  readonly port: number;
  readonly address: string;
  /** Status the health path answers (default 200). */
  healthStatus: number;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startEchoTarget(pki: LabPki, name = "echo"): Promise<EchoTarget> {
  const sockets = new Set<Socket>();
  const hits = new Map<string, number>();
  const state = { healthStatus: 200 };
  const server = https.createServer({ key: fs.readFileSync(pki.web.privateKey), cert: fs.readFileSync(pki.web.entireChain) }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === "/info" || path === "/usg/check-status") {
      res.writeHead(state.healthStatus, { "content-type": "text/plain" });
      res.end(state.healthStatus === 200 ? "ok" : "not ok");
      return;
    }
    if (path.endsWith("/hang")) return; // never answers: the ALB's 504
    if (path.endsWith("/reset")) {
      req.socket.destroy(); // closes without an answer: the ALB's 502
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      const rawNames: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i].toLowerCase();
        rawNames.push(req.rawHeaders[i]);
        headers[k] = headers[k] === undefined ? req.rawHeaders[i + 1] : `${headers[k]}, ${req.rawHeaders[i + 1]}`;
      }
      const reply: EchoReply = { method: req.method ?? "", url: req.url ?? "", headers, rawNames, body: Buffer.concat(chunks).toString(), target: name };
      res.writeHead(200, { "content-type": "application/json", "x-echo-target": name });
      res.end(JSON.stringify(reply));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    if ((req.url ?? "").endsWith("/no-upgrade")) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nforbidden");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i].toLowerCase()] = req.rawHeaders[i + 1];
      ws.send(JSON.stringify({ headers, url: req.url }));
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    get healthStatus() {
      return state.healthStatus;
    },
    set healthStatus(v: number) {
      state.healthStatus = v;
    },
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
