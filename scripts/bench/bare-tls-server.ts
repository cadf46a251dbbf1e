/**
 * The benchmark's ceiling: a bare Node HTTPS server asking for the client certificate and
 * answering every request itself ("ok"), in `workers` processes like the emulator.
 * `node bare-tls-server.js '<json>'` prints `{"port":N}` when ready; stops on SIGTERM.
 */
import cluster from "node:cluster";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export interface BareConfig {
  readonly keyFile: string;
  readonly certFile: string;
  readonly port: number;
  readonly workers: number;
}

const config = JSON.parse(process.argv[2] ?? process.env.BARE_TLS_CONFIG ?? "{}") as BareConfig;
const BODY = Buffer.from("ok\n");

function serve(): void {
  const server = https.createServer({ key: fs.readFileSync(config.keyFile), cert: fs.readFileSync(config.certFile), requestCert: true, rejectUnauthorized: false }, (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": BODY.length });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(config.port, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }) ?? process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
}

if (cluster.isPrimary && config.workers > 1) {
  let announced = false;
  for (let i = 0; i < config.workers; i++) {
    cluster.fork({ BARE_TLS_CONFIG: JSON.stringify(config) }).on("message", (m: { port: number }) => {
      if (!announced) process.stdout.write(`${JSON.stringify(m)}\n`);
      announced = true;
    });
  }
  process.on("SIGTERM", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    process.exit(0);
  });
} else {
  serve();
  process.on("SIGTERM", () => process.exit(0));
}
