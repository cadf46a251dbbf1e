import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, WebSocket } from "ws";
import type { LabPki } from "../../../simulator/pki";

/**
 * A stand-in ICG for tests of the UMS side: the lab ICG certificate, the tunnel route, and a test
 * that drives the tunnel by hand — to send what a real ICG never would.
 */
export interface FakeIcg {
  readonly url: string;
  /** The next tunnel the UMS opens (already opened ones first). */
  nextTunnel(timeoutMs?: number): Promise<WebSocket>;
  close(): Promise<void>;
}

export async function startFakeIcg(pki: LabPki): Promise<FakeIcg> {
  const server = https.createServer({ key: fs.readFileSync(pki.icg.key), cert: fs.readFileSync(pki.icg.chain), requestCert: true, rejectUnauthorized: false });
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true });
  const opened: WebSocket[] = [];
  const waiting: Array<(ws: WebSocket) => void> = [];
  server.on("upgrade", (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      const w = waiting.shift();
      if (w) w(ws);
      else opened.push(ws);
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    nextTunnel: (timeoutMs = 10_000) => {
      const ready = opened.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no tunnel from the UMS")), timeoutMs);
        waiting.push((ws) => {
          clearTimeout(timer);
          resolve(ws);
        });
      });
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Resolves with the next JSON message on a socket. */
export function nextJson(ws: WebSocket, timeoutMs = 10_000): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no message")), timeoutMs);
    ws.once("message", (data: Buffer) => {
      clearTimeout(timer);
      resolve(JSON.parse(data.toString()));
    });
  });
}
