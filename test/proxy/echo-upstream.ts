import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * A stand-in UMS for proxy tests: HTTPS with the UMS web certificate, answers every request with the
 * headers it received (JSON), and echoes WebSocket messages. Records what reached it.
 */
export async function startEchoUpstream(tls: { certificateChain: string; privateKey: string }) {
  const seen: SeenRequest[] = [];
  const server = https.createServer({ cert: fs.readFileSync(tls.certificateChain), key: fs.readFileSync(tls.privateKey) }, (req, res) => {
    const entry = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
    seen.push(entry);
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(entry));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ headers: req.headers }));
      ws.on("message", (data) => ws.send(`echo:${data.toString()}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    async stop(): Promise<void> {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
