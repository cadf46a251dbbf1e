/**
 * `npm run bench:alb` (after `npm run build`): the ALB emulator against nginx doing the same mTLS
 * termination and header injection, and against a bare Node TLS server (the ceiling), on
 * loopback, same RSA-2048 certificates everywhere. Two loads, each from load-generator processes
 * of their own: new mTLS connections per second (one request each, full handshake) and requests
 * per second on kept-alive connections. Targets (issue 4): emulator >= 0.5x nginx on new
 * connections, >= 0.7x on kept-alive requests. Also reported: CPU time per connection/request of
 * each front, which does not depend on how much CPU the load generator leaves it.
 *
 * Options: --duration MS (per measurement, default 4000), --workers N (emulator and ceiling
 * processes, default: the number of cores), --generators N (load processes, default 2).
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { stringify } from "yaml";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { initLabPki, LabPki } from "../../simulator/pki/lab-pki";
import { readStack } from "../../simulator/terraform/read-stack";
import { frontConfig, upstreamConfig, NginxFiles } from "./nginx-configs";
import { startProcess, stopProcess, stopAll, treeCpuSeconds, Started } from "./processes";
import type { GenConfig, GenResult } from "./tls-load";
import { reportFigures, Figure } from "./report";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const DURATION_MS = flag("duration", 4000);
const WARMUP_MS = 1000;
const CORES = os.availableParallelism?.() ?? os.cpus().length;
const WORKERS = flag("workers", CORES);
const GENERATORS = flag("generators", 2);
const CONCURRENCY = { connections: 32, requests: 64 };
const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => fs.existsSync(p));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The stack the emulator runs: ums-alb-verify, synthesized from a config using `pki`. */
async function synthesizeStack(dir: string, pkiDir: string): Promise<string> {
  const file = path.join(dir, "bench.yaml");
  fs.writeFileSync(
    file,
    stringify({
      project: "ums-edge",
      region: "eu-central-1",
      network: { vpcId: "vpc-0123456789abcdef0", albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], deviceCidrs: ["0.0.0.0/0"] },
      cluster: { fqdn: "ums.lab.test" },
      certificates: { labPki: pkiDir },
      stacks: [{ variant: "ums-alb-verify" }],
    }),
  );
  return synthesize(await loadConfig(file), path.join(dir, "cdktf.out")).stacks["ums-alb-verify"];
}

interface Load {
  readonly perSecond: number;
  readonly errors: number;
  /** CPU milliseconds the front (its whole process tree) spent per connection or request. */
  readonly frontCpuMsPer: number;
  /** CPU share the load generators used (1 = one core). */
  readonly generatorCores: number;
}

/** Runs the generators and samples CPU over the measuring window. */
async function load(front: Started, port: number, mode: GenConfig["mode"], pki: LabPki): Promise<Load> {
  const perGenerator = Math.ceil(CONCURRENCY[mode] / GENERATORS);
  const config: GenConfig = { mode, host: "127.0.0.1", port, keyFile: pki.devices.good.key, certFile: pki.devices.good.chain, path: "/device-connector/v1/bench", concurrency: perGenerator, warmupMs: WARMUP_MS, durationMs: DURATION_MS };
  const { spawn } = await import("node:child_process");
  const children = Array.from({ length: GENERATORS }, () => spawn(process.execPath, [path.join(__dirname, "tls-load.js"), JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] }));
  const results = children.map(
    (c) =>
      new Promise<GenResult>((resolve, reject) => {
        let out = "";
        c.stdout!.on("data", (d: Buffer) => (out += d));
        c.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!) as GenResult) : reject(new Error(`load generator exited ${code}`))));
      }),
  );
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const cpu0 = treeCpuSeconds(front.child.pid!);
  const gen0 = children.reduce((s, c) => s + treeCpuSeconds(c.pid!), 0);
  await new Promise((r) => setTimeout(r, DURATION_MS));
  const cpu1 = treeCpuSeconds(front.child.pid!);
  const gen1 = children.reduce((s, c) => s + treeCpuSeconds(c.pid!), 0);
  const done = await Promise.all(results);
  const completed = done.reduce((s, r) => s + r.completed, 0);
  const errors = done.reduce((s, r) => s + r.errors, 0);
  const seconds = Math.max(...done.map((r) => r.seconds));
  if (completed === 0) throw new Error(`${front.name} (${mode}): no request completed; first error: ${done.find((r) => r.firstError)?.firstError}`);
  return { perSecond: completed / seconds, errors, frontCpuMsPer: ((cpu1 - cpu0) * 1000) / completed, generatorCores: (gen1 - gen0) / (DURATION_MS / 1000) };
}

interface FrontResult {
  readonly name: string;
  readonly connections: Load;
  readonly requests: Load;
}

async function bench(name: string, start: () => Promise<{ started: Started; port: number }>, pki: LabPki): Promise<FrontResult> {
  const { started, port } = await start();
  try {
    process.stdout.write(`${name}: new connections...`);
    const connections = await load(started, port, "connections", pki);
    process.stdout.write(` ${connections.perSecond.toFixed(0)}/s; kept-alive requests...`);
    const requests = await load(started, port, "requests", pki);
    process.stdout.write(` ${requests.perSecond.toFixed(0)}/s\n`);
    return { name, connections, requests };
  } finally {
    await stopProcess(started);
  }
}

async function main(): Promise<void> {
  if (!NGINX) throw new Error("nginx is not installed: run scripts/ensure-nginx.sh (Debian: apt-get install -y nginx-light)");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-bench-alb-"));
  process.on("exit", () => {
    stopAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  process.on("SIGINT", () => process.exit(130));

  const pki = await initLabPki(path.join(tmp, "pki"));
  const stackDir = await synthesizeStack(tmp, path.join(tmp, "pki"));
  const stack = readStack(stackDir);
  const mtls = stack.listeners.find((l) => l.port === 8443)!;
  // Every front serves the same certificate (the stack's web certificate, RSA-2048) and trust store.
  const certFile = path.join(tmp, "web-chain.pem");
  fs.writeFileSync(certFile, fs.readFileSync(mtls.certificate!.bodyFile, "utf8") + fs.readFileSync(mtls.certificate!.chainFile!, "utf8"));
  const keyFile = mtls.certificate!.privateKeyFile;
  const caBundleFile = mtls.mutualAuthentication.trustStore!.caBundleFile;

  const nginxPrefix = (n: string): NginxFiles => {
    const prefix = path.join(tmp, n);
    fs.mkdirSync(prefix, { recursive: true });
    return { prefix, certFile, keyFile };
  };
  const startNginx = async (n: string, conf: (f: NginxFiles) => string, port: number) => {
    const f = nginxPrefix(n);
    const file = path.join(f.prefix, "nginx.conf");
    fs.writeFileSync(file, conf(f));
    execFileSync(NGINX, ["-t", "-q", "-p", f.prefix, "-c", file, "-g", "daemon off;"], { stdio: "pipe" });
    return startProcess(n, NGINX, ["-p", f.prefix, "-c", file, "-g", "daemon off;"], { host: "127.0.0.1", port });
  };

  const upstreamPort = await freePort();
  const upstream = await startNginx("upstream", (f) => upstreamConfig(f, upstreamPort), upstreamPort);
  const results: FrontResult[] = [];
  try {
    results.push(
      await bench(`nginx (${WORKERS} workers)`, async () => {
        const port = await freePort();
        return { started: await startNginx("front", (f) => frontConfig(f, { port, upstreamPort, caBundleFile, workers: WORKERS }), port), port };
      }, pki),
    );
    for (const workers of [...new Set([1, WORKERS])]) {
      results.push(
        await bench(`ALB emulator (${workers} process${workers > 1 ? "es" : ""})`, async () => {
          const cli = path.join(__dirname, "../../cli/index.js");
          const started = await startProcess("alb", process.execPath, [cli, "alb", "--stack", stackDir, "--target", `127.0.0.1:${upstreamPort}`, "--port", "8443=0", "--port", "443=0", "--workers", String(workers)], "line");
          const url = (JSON.parse(started.readyLine!) as { listeners: Record<string, string> }).listeners["8443"];
          return { started, port: Number(new URL(url).port) };
        }, pki),
      );
      results.push(
        await bench(`bare Node TLS server (${workers} process${workers > 1 ? "es" : ""})`, async () => {
          const started = await startProcess("bare", process.execPath, [path.join(__dirname, "bare-tls-server.js"), JSON.stringify({ keyFile, certFile, port: 0, workers })], "line");
          return { started, port: (JSON.parse(started.readyLine!) as { port: number }).port };
        }, pki),
      );
    }
  } finally {
    await stopProcess(upstream);
  }

  const nginx = results[0];
  const emulators = results.filter((r) => r.name.startsWith("ALB emulator"));
  const best = (k: "connections" | "requests") => emulators.reduce((a, b) => (b[k].perSecond > a[k].perSecond ? b : a));
  const figures: Figure[] = [];
  for (const r of results) {
    figures.push({ name: `${r.name}: new mTLS connections`, value: Math.round(r.connections.perSecond), unit: "conn/s" });
    figures.push({ name: `${r.name}: kept-alive requests`, value: Math.round(r.requests.perSecond), unit: "req/s" });
  }
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const bc = best("connections");
  const br = best("requests");
  figures.push({ name: `emulator / nginx, new connections (${bc.name})`, value: ratio(bc.connections.perSecond, nginx.connections.perSecond), unit: "x", min: 0.5 });
  figures.push({ name: `emulator / nginx, kept-alive requests (${br.name})`, value: ratio(br.requests.perSecond, nginx.requests.perSecond), unit: "x", min: 0.7 });
  // CPU per operation does not depend on how much CPU the load generators leave the front.
  const cheapest = (k: "connections" | "requests") => emulators.reduce((a, b) => (b[k].frontCpuMsPer < a[k].frontCpuMsPer ? b : a));
  const cc = cheapest("connections");
  const cr = cheapest("requests");
  figures.push({ name: `CPU efficiency vs nginx, new connections (nginx CPU / ${cc.name} CPU)`, value: ratio(nginx.connections.frontCpuMsPer, cc.connections.frontCpuMsPer), unit: "x" });
  figures.push({ name: `CPU efficiency vs nginx, kept-alive requests (nginx CPU / ${cr.name} CPU)`, value: ratio(nginx.requests.frontCpuMsPer, cr.requests.frontCpuMsPer), unit: "x" });
  for (const r of results) {
    figures.push({ name: `${r.name}: CPU per new connection`, value: Math.round(r.connections.frontCpuMsPer * 1000) / 1000, unit: "ms" });
    figures.push({ name: `${r.name}: CPU per kept-alive request`, value: Math.round(r.requests.frontCpuMsPer * 1000) / 1000, unit: "ms" });
  }
  const ok = reportFigures("alb", figures, {
    machine: { cores: CORES, node: process.version, nginx: execFileSync(NGINX, ["-v"], { stdio: "pipe", encoding: "utf8" }).trim() || "nginx" },
    settings: { durationMs: DURATION_MS, warmupMs: WARMUP_MS, workers: WORKERS, generators: GENERATORS, concurrency: CONCURRENCY, key: "RSA-2048 server and client certificates (lab PKI)" },
    results,
  });
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
  process.stderr.write(`bench:alb: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 2;
});
