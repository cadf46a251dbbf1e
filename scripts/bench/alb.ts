/**
 * `npm run bench:alb` (after `npm run build`): the ALB emulator against nginx doing the same mTLS
 * termination and header injection, and against a bare Node TLS server (the ceiling), on
 * loopback, same RSA-2048 certificates everywhere. Two loads, each from load-generator processes
 * of their own: new mTLS connections per second (one request each, full handshake) and requests
 * per second on kept-alive connections. Targets (issue 4): emulator >= 0.5x nginx on new
 * connections, >= 0.7x on kept-alive requests. Also reported: CPU time per connection/request of
 * each front, which does not depend on how much CPU the load generator leaves it.
 *
 * Fair comparison on a shared machine: every front runs with 1 and with N processes (nginx
 * workers too) and the best of each is compared; all fronts are measured in several rounds, in
 * alternating order, and the figures are the medians over the rounds.
 *
 * Options: --duration MS (per measurement, default 3000), --rounds N (default 3), --workers N
 * (processes of every front, besides 1; default: the number of cores), --generators N (load
 * processes, default 2).
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
import { labPkiCertificates } from "../../simulator/pki/lab-pki";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const DURATION_MS = flag("duration", 3000);
const ROUNDS = flag("rounds", 3);
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
  return synthesize(await loadConfig(file, { labPki: labPkiCertificates }), path.join(dir, "cdktf.out")).stacks["ums-alb-verify"];
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
  readonly kind: "nginx" | "emulator" | "bare";
  readonly connections: Load;
  readonly requests: Load;
}

interface Front {
  readonly name: string;
  readonly kind: FrontResult["kind"];
  readonly start: () => Promise<{ started: Started; port: number }>;
}

async function bench(front: Front, pki: LabPki): Promise<FrontResult> {
  const { started, port } = await front.start();
  try {
    process.stdout.write(`${front.name}: new connections...`);
    const connections = await load(started, port, "connections", pki);
    process.stdout.write(` ${connections.perSecond.toFixed(0)}/s (${(connections.frontCpuMsPer * 1000).toFixed(0)} µs CPU); kept-alive requests...`);
    const requests = await load(started, port, "requests", pki);
    process.stdout.write(` ${requests.perSecond.toFixed(0)}/s (${(requests.frontCpuMsPer * 1000).toFixed(1)} µs CPU)\n`);
    return { name: front.name, kind: front.kind, connections, requests };
  } finally {
    await stopProcess(started);
  }
}

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** A front's loads over the rounds, each field the median. */
function medianResult(rounds: readonly FrontResult[]): FrontResult {
  const med = (k: "connections" | "requests"): Load => ({
    perSecond: median(rounds.map((r) => r[k].perSecond)),
    errors: rounds.reduce((s, r) => s + r[k].errors, 0),
    frontCpuMsPer: median(rounds.map((r) => r[k].frontCpuMsPer)),
    generatorCores: median(rounds.map((r) => r[k].generatorCores)),
  });
  return { name: rounds[0].name, kind: rounds[0].kind, connections: med("connections"), requests: med("requests") };
}

async function main(): Promise<void> {
  if (!NGINX) throw new Error("nginx is not installed: run scripts/ensure-system-tools.sh (Debian: apt-get install -y nginx-light)");
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
  const processes = (n: number) => `${n} process${n > 1 ? "es" : ""}`;
  const fronts: Front[] = [...new Set([1, WORKERS])].flatMap((workers): Front[] => [
    {
      name: `nginx (${workers} worker${workers > 1 ? "s" : ""})`,
      kind: "nginx",
      start: async () => {
        const port = await freePort();
        return { started: await startNginx(`front-${workers}`, (f) => frontConfig(f, { port, upstreamPort, caBundleFile, workers }), port), port };
      },
    },
    {
      name: `ALB emulator (${processes(workers)})`,
      kind: "emulator",
      start: async () => {
        const cli = path.join(__dirname, "../../cli/index.js");
        const started = await startProcess("alb", process.execPath, [cli, "alb", "--stack", stackDir, "--target", `127.0.0.1:${upstreamPort}`, "--port", "8443=0", "--port", "443=0", "--workers", String(workers)], "line");
        const url = (JSON.parse(started.readyLine!) as { listeners: Record<string, string> }).listeners["8443"];
        return { started, port: Number(new URL(url).port) };
      },
    },
    {
      name: `bare Node TLS server (${processes(workers)})`,
      kind: "bare",
      start: async () => {
        const started = await startProcess("bare", process.execPath, [path.join(__dirname, "bare-tls-server.js"), JSON.stringify({ keyFile, certFile, port: 0, workers })], "line");
        return { started, port: (JSON.parse(started.readyLine!) as { port: number }).port };
      },
    },
  ]);
  const rounds = new Map<string, FrontResult[]>(fronts.map((f) => [f.name, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      process.stdout.write(`round ${round + 1} of ${ROUNDS}\n`);
      // Alternating order: no front is always measured first or last while the machine's load drifts.
      for (const front of round % 2 ? [...fronts].reverse() : fronts) rounds.get(front.name)!.push(await bench(front, pki));
    }
  } finally {
    await stopProcess(upstream);
  }

  const results = fronts.map((f) => medianResult(rounds.get(f.name)!));
  const of = (kind: FrontResult["kind"]) => results.filter((r) => r.kind === kind);
  const fastest = (rs: FrontResult[], k: "connections" | "requests") => rs.reduce((a, b) => (b[k].perSecond > a[k].perSecond ? b : a));
  const cheapest = (rs: FrontResult[], k: "connections" | "requests") => rs.reduce((a, b) => (b[k].frontCpuMsPer < a[k].frontCpuMsPer ? b : a));
  const figures: Figure[] = [];
  for (const r of results) {
    figures.push({ name: `${r.name}: new mTLS connections`, value: Math.round(r.connections.perSecond), unit: "conn/s" });
    figures.push({ name: `${r.name}: kept-alive requests`, value: Math.round(r.requests.perSecond), unit: "req/s" });
  }
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  for (const [k, what, min] of [["connections", "new connections", 0.5], ["requests", "kept-alive requests", 0.7]] as const) {
    const e = fastest(of("emulator"), k);
    const n = fastest(of("nginx"), k);
    figures.push({ name: `emulator / nginx, ${what} (${e.name} / ${n.name})`, value: ratio(e[k].perSecond, n[k].perSecond), unit: "x", min });
  }
  // CPU per operation does not depend on how much CPU the load generators leave the front.
  for (const [k, what] of [["connections", "new connections"], ["requests", "kept-alive requests"]] as const) {
    const e = cheapest(of("emulator"), k);
    const n = cheapest(of("nginx"), k);
    figures.push({ name: `CPU efficiency vs nginx, ${what} (${n.name} CPU / ${e.name} CPU)`, value: ratio(n[k].frontCpuMsPer, e[k].frontCpuMsPer), unit: "x" });
  }
  for (const r of results) {
    figures.push({ name: `${r.name}: CPU per new connection`, value: Math.round(r.connections.frontCpuMsPer * 1000), unit: "µs" });
    figures.push({ name: `${r.name}: CPU per kept-alive request`, value: Math.round(r.requests.frontCpuMsPer * 10000) / 10, unit: "µs" });
  }
  const ok = reportFigures("alb", figures, {
    machine: { cores: CORES, node: process.version, nginx: execFileSync(NGINX, ["-v"], { stdio: "pipe", encoding: "utf8" }).trim() || "nginx" },
    settings: { durationMs: DURATION_MS, warmupMs: WARMUP_MS, rounds: ROUNDS, workers: WORKERS, generators: GENERATORS, concurrency: CONCURRENCY, key: "RSA-2048 server and client certificates (lab PKI)", figures: "medians over the rounds" },
    results,
    rounds: Object.fromEntries(rounds),
  });
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
  process.stderr.write(`bench:alb: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 2;
});
