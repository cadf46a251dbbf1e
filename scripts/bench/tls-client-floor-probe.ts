#!/usr/bin/env node
/**
 * What a device fleet cannot go below (after `npm run build`): the resident memory of one Node TLS
 * client connection, with one TLS context shared by every connection and with a context of its own
 * per connection (a device's own certificate and key, as every simulated device has), no WebSocket,
 * no device logic. docs/memory.md reads the whole-bench target against this floor.
 *
 *   node dist/scripts/bench/tls-client-floor-probe.js [connections]
 *
 * Each case runs in a process of its own (memory one case freed would hide the next one's cost).
 *
 * Prints JSON (KiB per connection for each case); writes no report.
 */
import * as path from "node:path";
import * as tls from "node:tls";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { startComponent } from "../../simulator/runtime/component-process";
import { prepareBenchLab } from "./bench-topology";
import type { BareConfig } from "./bare-tls-server";

const BATCH = 50;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function openConnections(port: number, n: number, context: () => tls.SecureContext, serverName: string): Promise<tls.TLSSocket[]> {
  const sockets: tls.TLSSocket[] = [];
  for (let i = 0; i < n; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, n - i) }, () =>
        new Promise<void>((resolve, reject) => {
          const s = tls.connect({ host: "127.0.0.1", port, secureContext: context(), servername: serverName }, resolve);
          s.on("error", reject);
          sockets.push(s);
        }),
      ),
    );
  }
  return sockets;
}

async function perConnectionKiB(port: number, n: number, context: () => tls.SecureContext, serverName: string): Promise<number> {
  gc();
  const before = process.memoryUsage().rss;
  const sockets = await openConnections(port, n, context, serverName);
  await new Promise((r) => setTimeout(r, 1000));
  gc();
  const held = process.memoryUsage().rss;
  for (const s of sockets) s.destroy();
  return Math.round(((held - before) / n / 1024) * 10) / 10;
}

type Case = "shared" | "own";

/** One case in this process: connections opened after nothing else, so freed memory of another case cannot hide its cost. */
async function measureCase(n: number, which: Case): Promise<number> {
  if (!(globalThis as { gc?: unknown }).gc) throw new Error("run with node --expose-gc");
  const { lab } = await prepareBenchLab(0);
  const pki = lab.pki;
  const config: BareConfig = { keyFile: pki.web.privateKey, certFile: pki.web.entireChain, port: 0, workers: 1 };
  const server = await startComponent<{ port: number }>({ name: "bare-tls-server", command: process.execPath, args: [path.join(__dirname, "bare-tls-server.js"), JSON.stringify(config)] });
  try {
    const options = { ca: fs.readFileSync(pki.web.rootCert, "utf8"), cert: fs.readFileSync(pki.devices.good.chain, "utf8"), key: fs.readFileSync(pki.devices.good.key, "utf8"), allowPartialTrustChain: true };
    const shared = tls.createSecureContext(options);
    return await perConnectionKiB(server.ready.port, n, which === "shared" ? () => shared : () => tls.createSecureContext(options), pki.fqdn);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? "2000");
  if (!(n > 0)) throw new Error(`connections: '${process.argv[2]}' is not a positive number`);
  const which = process.argv[3] as Case | undefined;
  if (which) {
    process.stdout.write(`${await measureCase(n, which)}\n`);
    return;
  }
  const run = (c: Case) => Number(execFileSync(process.execPath, ["--expose-gc", __filename, String(n), c], { encoding: "utf8" }).trim());
  const sharedKiB = run("shared");
  const ownKiB = run("own");
  process.stdout.write(JSON.stringify({ connections: n, node: process.version, openssl: process.versions.openssl, sharedContextKiB: sharedKiB, ownContextKiB: ownKiB, contextKiB: Math.round((ownKiB - sharedKiB) * 10) / 10 }, null, 1) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
