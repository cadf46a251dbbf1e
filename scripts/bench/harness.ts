import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { prepareLab, Lab } from "../../simulator/runtime/lab";
import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import { startTopology, TopologyOptions } from "../../simulator/runtime/topologies/start-topology";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { KeyPool } from "../../simulator/pki/keys";
import { ImiClient } from "../../simulator/ums/imi-client";
import type { ImiCommandExec } from "../../simulator/protocol/imi";
import { ROUTES } from "../../simulator/protocol/routes";
import { DEFAULT_ADMIN } from "../../simulator/ums/mock-ums";

/**
 * What the fleet benches share: the bench lab (PKI, key pool, synthesized stacks), topologies
 * started on the loopback runtime, device fleets as processes of their own
 * (dist/simulator/device/main.js), memory and CPU of process trees read from /proc, percentiles,
 * progress lines, and the IMI calls that command a whole fleet and wait for it.
 */

/** `--quick` or UMS_EDGE_BENCH_QUICK=1: a small version for smoke tests. */
export const QUICK = process.argv.includes("--quick") || process.env.UMS_EDGE_BENCH_QUICK === "1";
export const CORES = os.availableParallelism?.() ?? os.cpus().length;
/** dist/ (this file is dist/scripts/bench/harness.js). */
const DIST = path.resolve(__dirname, "../..");
export const FLEET_ENTRY = path.join(DIST, "simulator", "device", "main.js");
/** Keys the fleets draw from: each device still gets its own certificate. */
export const KEY_POOL_SIZE = 64;

export function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n)) throw new Error(`--${name}: '${process.argv[i + 1]}' is not a number`);
  return n;
}

// ---------------------------------------------------------------- progress

const tty = Boolean(process.stderr.isTTY) && process.env.CI !== "true";
let transient = false;

/** A line that stays (on stderr: stdout holds the tables). */
export function say(text: string): void {
  if (tty && transient) process.stderr.write("\r\x1b[2K");
  transient = false;
  process.stderr.write(`${text}\n`);
}

/** A status that the next one replaces on a terminal; elsewhere printed only when `plain`. */
export function status(text: string, plain = false): void {
  if (tty) {
    process.stderr.write(`\r\x1b[2K${text.slice(0, (process.stderr.columns ?? 100) - 1)}`);
    transient = true;
  } else if (plain) process.stderr.write(`${text}\n`);
}

// ---------------------------------------------------------------- numbers

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

/** Nearest-rank percentiles. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: NaN, p95: NaN, p99: NaN, mean: NaN, max: NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  const round = (n: number) => Math.round(n * 100) / 100;
  return { count: s.length, p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), mean: round(s.reduce((a, b) => a + b, 0) / s.length), max: round(s[s.length - 1]) };
}

export function median(values: readonly number[]): number {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
export const round2 = (n: number) => Math.round(n * 100) / 100;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- /proc

interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  /** user + system, seconds */
  readonly cpu: number;
}

function readProcTable(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      table.set(Number(entry), { pid: Number(entry), ppid: Number(fields[1]), name: stat.slice(stat.indexOf("(") + 1, close), cpu: (Number(fields[11]) + Number(fields[12])) / 100 });
    } catch {
      // ended meanwhile
    }
  }
  return table;
}

/** A process and all its descendants (cluster workers, nginx workers). */
export function processTree(rootPid: number, table = readProcTable()): ProcEntry[] {
  const out: ProcEntry[] = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const e = table.get(pid);
    if (!e) continue;
    out.push(e);
    for (const c of table.values()) if (c.ppid === pid) stack.push(c.pid);
  }
  return out;
}

export interface Memory {
  /** Resident now, MiB. */
  readonly rssMiB: number;
  /** Peak resident (VmHWM), MiB. */
  readonly hwmMiB: number;
}

export function memoryOf(pid: number): Memory {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
    return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
  } catch {
    return { rssMiB: 0, hwmMiB: 0 };
  }
}

/**
 * Where a process's resident memory is, from /proc/<pid>/smaps: `[heap]` (the main thread's malloc
 * arena: OpenSSL's and Node's native objects), anonymous mappings (the V8 heap, thread arenas),
 * file mappings (the node binary and libraries: shared between processes, counted in each one's
 * RSS), and PSS (shared pages divided among the processes sharing them).
 */
export interface MemoryBreakdown {
  readonly nativeHeapMiB: number;
  readonly anonymousMiB: number;
  readonly fileMiB: number;
  readonly pssMiB: number;
}

export function memoryBreakdown(pid: number): MemoryBreakdown {
  let heap = 0;
  let anon = 0;
  let file = 0;
  let pss = 0;
  try {
    let kind: "heap" | "anon" | "file" | "other" = "other";
    for (const line of fs.readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
      const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+(?:\s+(.*))?$/.exec(line);
      if (header) {
        const name = (header[1] ?? "").trim();
        kind = name === "[heap]" ? "heap" : name === "" ? "anon" : name.startsWith("/") ? "file" : "other";
      } else if (line.startsWith("Rss:")) {
        const kb = Number(line.split(/\s+/)[1]);
        if (kind === "heap") heap += kb;
        else if (kind === "anon") anon += kb;
        else if (kind === "file") file += kb;
      } else if (line.startsWith("Pss:")) pss += Number(line.split(/\s+/)[1]);
    }
  } catch {
    // ended
  }
  return { nativeHeapMiB: heap / 1024, anonymousMiB: anon / 1024, fileMiB: file / 1024, pssMiB: pss / 1024 };
}

/** Named roots (e.g. "ums", "alb", "fleet 1") whose whole trees are measured. */
export type Roots = ReadonlyArray<{ readonly name: string; readonly pid: number }>;

export interface GroupSample {
  readonly name: string;
  readonly processes: number;
  readonly rssMiB: number;
  readonly hwmMiB: number;
  readonly cpuSeconds: number;
}

export function sampleGroups(roots: Roots): GroupSample[] {
  const table = readProcTable();
  return roots.map(({ name, pid }) => {
    const tree = processTree(pid, table);
    const mem = tree.map((p) => memoryOf(p.pid));
    return {
      name,
      processes: tree.length,
      rssMiB: mem.reduce((a, m) => a + m.rssMiB, 0),
      hwmMiB: mem.reduce((a, m) => a + m.hwmMiB, 0),
      cpuSeconds: tree.reduce((a, p) => a + p.cpu, 0),
    };
  });
}

/**
 * Samples the groups' memory every `everyMs` while work runs: the highest simultaneous total of
 * VmRSS, and each process's own VmHWM (a peak that survives between samples).
 */
export class MemorySampler {
  private timer?: NodeJS.Timeout;
  peakTotalRssMiB = 0;
  /** Per group: the highest VmHWM sum and VmRSS seen. */
  readonly peak = new Map<string, { rssMiB: number; hwmMiB: number; processes: number }>();

  constructor(
    private readonly roots: () => Roots,
    private readonly everyMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  sample(): GroupSample[] {
    const groups = sampleGroups(this.roots());
    this.peakTotalRssMiB = Math.max(this.peakTotalRssMiB, groups.reduce((a, g) => a + g.rssMiB, 0));
    for (const g of groups) {
      const p = this.peak.get(g.name) ?? { rssMiB: 0, hwmMiB: 0, processes: 0 };
      this.peak.set(g.name, { rssMiB: Math.max(p.rssMiB, g.rssMiB), hwmMiB: Math.max(p.hwmMiB, g.hwmMiB), processes: Math.max(p.processes, g.processes) });
    }
    return groups;
  }

  /** Sum over groups of their peak VmHWM: each process at its own peak (an upper bound of the simultaneous peak). */
  get sumOfPeaksMiB(): number {
    return [...this.peak.values()].reduce((a, p) => a + p.hwmMiB, 0);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

// ---------------------------------------------------------------- cleanup on Ctrl-C

const running = new Set<() => Promise<unknown>>();
let interrupted = false;

/** Registers a stop function for what a bench started; returns the function that unregisters it. */
export function onInterrupt(stop: () => Promise<unknown>): () => void {
  running.add(stop);
  if (running.size === 1 && process.listenerCount("SIGINT") === 0) {
    const handler = (signal: NodeJS.Signals) => {
      if (interrupted) return;
      interrupted = true;
      say(`\n${signal}: stopping what the bench started...`);
      void Promise.allSettled([...running].map((s) => s())).then(() => process.exit(130));
    };
    process.once("SIGINT", handler);
    process.once("SIGTERM", handler);
  }
  return () => running.delete(stop);
}

// ---------------------------------------------------------------- lab and topology

let labPromise: Promise<Lab> | undefined;

/** The bench's lab (reused between runs: the PKI and key pool are kept; stacks are synthesized again). */
export function benchLab(): Promise<Lab> {
  labPromise ??= (async () => {
    const lab = await prepareLab(path.join(os.tmpdir(), "ums-edge-bench-fleet", "lab"));
    const generated = await new KeyPool(lab.pki.keyPool).ensure(KEY_POOL_SIZE, (done, total) => status(`key pool: ${done}/${total} keys generated`));
    if (generated > 0) say(`key pool: ${generated} device keys generated (once; kept in ${lab.pki.keyPool})`);
    return lab;
  })();
  return labPromise;
}

export interface RunningTopology {
  readonly topology: StartedTopology;
  readonly imi: ImiClient;
  /** The processes of the topology by component: ums, alb, icg, nginx. */
  readonly roots: Roots;
}

/** Starts a topology on the loopback runtime, with an IMI client logged in. */
export async function runTopology(name: TopologyName, options: TopologyOptions = {}): Promise<RunningTopology> {
  const lab = await benchLab();
  const started = await startTopology(name, new LoopbackRuntime(), lab, { instance: "bench", ...options });
  // stop() also unregisters it from the Ctrl-C cleanup.
  const forget = onInterrupt(() => started.stop());
  const topology: StartedTopology = { ...started, stop: () => (forget(), started.stop()) };
  try {
    const imi = new ImiClient({ baseUrl: topology.admin.baseUrl, caFile: topology.admin.caFile, serverName: topology.admin.serverName });
    await imi.login();
    const roots: Array<{ name: string; pid: number }> = [];
    for (const [n, c] of Object.entries(topology.components)) if (c.pid) roots.push({ name: n, pid: c.pid });
    const nginxPid = topology.nginxLogs ? nginxMasterPid(topology) : undefined;
    if (nginxPid) roots.push({ name: "nginx", pid: nginxPid });
    return { topology, imi, roots };
  } catch (e) {
    await topology.stop();
    throw e;
  }
}

/** The nginx master's pid, from the pid file in the directory nginx runs in (beside or above its logs). */
function nginxMasterPid(t: StartedTopology): number | undefined {
  const logs = path.dirname(t.nginxLogs!.access);
  for (const file of [path.join(logs, "nginx.pid"), path.join(path.dirname(logs), "nginx.pid")]) {
    try {
      const pid = Number(fs.readFileSync(file, "utf8").trim());
      if (pid > 0) return pid;
    } catch {
      // not here
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- device fleets

export interface FleetSpec {
  readonly topology: StartedTopology;
  /** The lab PKI directory (key pool, web root). */
  readonly pkiDir: string;
  readonly count: number;
  readonly enrollmentKeys: readonly string[];
  /** First MAC offset: fleets of one run must not overlap. */
  readonly unitBase: number;
  /** Devices in their first onboarding/connect at once. */
  readonly startConcurrency: number;
  readonly handshakeTimeoutMs?: number;
  /** Where the keys file goes. */
  readonly workDir: string;
  /** Node options of the fleet process (e.g. a smaller heap reserve). */
  readonly nodeArgs?: readonly string[];
  /** Every device event (the fleet then prints one line per event: for small fleets). @default summaries only */
  readonly onDeviceEvent?: (e: DeviceEventLine) => void;
}

/** A device event line of the fleet process (`--events all`). */
export interface DeviceEventLine {
  readonly event: "device";
  readonly type: string;
  readonly unitId: string;
  readonly commandId?: string;
  readonly [field: string]: unknown;
}

export interface FleetSummaryLine {
  readonly event: "settled" | "stats";
  readonly devices: number;
  readonly states: Readonly<Record<string, number>>;
  readonly onboardingMs: { readonly count: number; readonly p50?: number; readonly p95?: number; readonly mean?: number; readonly max?: number };
  readonly connectMs: { readonly count: number; readonly p50?: number; readonly p95?: number; readonly mean?: number; readonly max?: number };
  readonly commandsExecuted: number;
  readonly duplicateDeliveries: number;
  readonly reconnects: number;
  readonly lastRefusals: Readonly<Record<string, number>>;
}

/** A device fleet in a process of its own: `node dist/simulator/device/main.js --events summary ...`. */
export class FleetProcess {
  readonly child: ChildProcess;
  /** performance.now() when spawned, and when the fleet said `started` (every device started). */
  readonly spawnedAt = performance.now();
  startedAt?: number;
  settledAt?: number;
  readonly started: Promise<void>;
  readonly settled: Promise<FleetSummaryLine>;
  private readonly statsLine: Promise<FleetSummaryLine | undefined>;
  private readonly stderrTail: string[] = [];
  private exited = false;

  constructor(
    readonly name: string,
    spec: FleetSpec,
  ) {
    const keysFile = path.join(spec.workDir, `${name.replace(/\W+/g, "-")}-keys.txt`);
    fs.writeFileSync(keysFile, spec.enrollmentKeys.join("\n") + "\n", { mode: 0o600 });
    const d = spec.topology.devices;
    const args = [
      ...(spec.nodeArgs ?? []),
      FLEET_ENTRY,
      "--pki", spec.pkiDir,
      "--cluster-url", d.clusterUrl,
      "--enrollment-url", d.enrollmentUrl,
      "--server-name", d.serverName,
      "--ca-file", d.trustedCaFile,
      "--count", String(spec.count),
      "--enrollment-keys-file", keysFile,
      "--key-pool-size", String(KEY_POOL_SIZE),
      "--unit-base", String(spec.unitBase),
      "--start-concurrency", String(spec.startConcurrency),
      "--backoff-initial-ms", "200",
      "--backoff-max-ms", "2000",
      "--handshake-timeout-ms", String(spec.handshakeTimeoutMs ?? 30_000),
      "--events", spec.onDeviceEvent ? "all" : "summary",
    ];
    this.child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const forget = onInterrupt(() => this.stop(5000));
    this.child.once("exit", () => {
      this.exited = true;
      forget();
    });
    createInterface({ input: this.child.stderr! }).on("line", (l) => {
      this.stderrTail.push(l);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    const lines = createInterface({ input: this.child.stdout! });
    const exitedEarly = new Promise<never>((_, reject) =>
      this.child.once("exit", (code, signal) => reject(new Error(`fleet ${name} exited (${signal ?? `code ${code}`}) early\n${this.stderrTail.join("\n")}`))),
    );
    exitedEarly.catch(() => undefined);
    let onStarted!: () => void;
    let onSettled!: (l: FleetSummaryLine) => void;
    let onStats!: (l: FleetSummaryLine | undefined) => void;
    this.started = Promise.race([new Promise<void>((r) => (onStarted = r)), exitedEarly]);
    this.settled = Promise.race([new Promise<FleetSummaryLine>((r) => (onSettled = r)), exitedEarly]);
    this.statsLine = new Promise((r) => {
      onStats = r;
      this.child.once("exit", () => r(undefined));
    });
    this.settled.catch(() => undefined);
    lines.on("line", (l) => {
      let o: { event?: string };
      try {
        o = JSON.parse(l);
      } catch {
        return;
      }
      if (o.event === "started") {
        this.startedAt = performance.now();
        onStarted();
      } else if (o.event === "settled") {
        this.settledAt = performance.now();
        onSettled(o as FleetSummaryLine);
      } else if (o.event === "stats") onStats(o as FleetSummaryLine);
      else if (o.event === "device") spec.onDeviceEvent?.(o as DeviceEventLine);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM; resolves with the fleet's final stats (undefined if it had to be killed). */
  async stop(graceMs = 20_000): Promise<FleetSummaryLine | undefined> {
    if (this.exited) return this.statsLine;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const stats = await this.statsLine;
    await new Promise<void>((r) => (this.exited ? r() : this.child.once("exit", () => r())));
    clearTimeout(timer);
    return stats;
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }

  get lastStderr(): string {
    return this.stderrTail.join("\n");
  }
}

// ---------------------------------------------------------------- IMI at fleet scale

/** The devices the UMS knows, by id (a fresh UMS per topology: all of them are the bench's). */
export async function deviceIds(imi: ImiClient): Promise<string[]> {
  return (await imi.thinclients()).map((t) => t.id);
}

/** Every command the UMS holds (`GET /umsapi/v3/commands`; ImiClient has no call for the whole list). */
export async function allCommands(imi: ImiClient): Promise<ImiCommandExec[]> {
  let cookie = sessionCookies.get(imi);
  if (!cookie) {
    const { username, password } = DEFAULT_ADMIN;
    const login = await imi.request("POST", ROUTES.login, undefined, { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` });
    if (login.status !== 200) throw new Error(`IMI login answered ${login.status}: ${login.text.slice(0, 200)}`);
    cookie = (JSON.parse(login.text) as { message: string }).message;
    sessionCookies.set(imi, cookie);
  }
  const answer = await imi.request("GET", ROUTES.commands, undefined, { cookie });
  if (answer.status !== 200) throw new Error(`GET ${ROUTES.commands} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  return (JSON.parse(answer.text) as { CommandExecList: ImiCommandExec[] }).CommandExecList;
}

const sessionCookies = new WeakMap<ImiClient, string>();

/** Polls until every one of `execIds` is SUCCESS or FAILED; resolves with their records and when the last was seen finished. */
export async function waitForCommands(imi: ImiClient, execIds: readonly string[], timeoutMs: number, pollMs = 100, onPoll?: (finished: number) => void): Promise<{ records: ImiCommandExec[]; seenAt: number }> {
  const wanted = new Set(execIds);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const all = (await allCommands(imi)).filter((c) => wanted.has(c.exec_id));
    const finished = all.filter((c) => c.state === "SUCCESS" || c.state === "FAILED");
    onPoll?.(finished.length);
    if (finished.length === wanted.size) return { records: all, seenAt: performance.now() };
    if (performance.now() > deadline) {
      const states: Record<string, number> = {};
      for (const c of all) states[c.state] = (states[c.state] ?? 0) + 1;
      throw new Error(`${wanted.size - finished.length} of ${wanted.size} commands not finished after ${timeoutMs} ms: ${JSON.stringify(states)}`);
    }
    await sleep(pollMs);
  }
}

/** UMS round trip of a finished command: finishedAt - queuedAt (ms, the UMS's clock). */
export function roundTripMs(c: ImiCommandExec): number | undefined {
  return c.queuedAt && c.finishedAt ? Date.parse(c.finishedAt) - Date.parse(c.queuedAt) : undefined;
}

/** Removes a scratch directory (it holds enrollment keys files). */
export function removeWorkDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A fresh scratch directory for one bench run (enrollment keys files for the fleet processes). */
export function workDir(name: string): string {
  const dir = path.join(os.tmpdir(), "ums-edge-bench-fleet", "work", `${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------- descriptors

/**
 * This process's open-files limit. Node raises its soft limit to the hard one when it starts, so
 * every component process may hold up to the hard limit (20,000 on this machine, which does not
 * let even root raise it: no CAP_SYS_RESOURCE).
 */
export function openFilesLimit(): { soft: number; hard: number } {
  const line = fs
    .readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const [soft, hard] = (line ?? "").replace("Max open files", "").trim().split(/\s+/);
  const n = (v: string | undefined) => (v === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(v) || 1024);
  return { soft: n(soft), hard: n(hard) };
}
