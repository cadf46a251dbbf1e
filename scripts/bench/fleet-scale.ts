/**
 * Onboarding and commands at scale, per topology: N devices (in fleet processes of their own)
 * onboard and open their management sessions — throughput in devices/s until all are online —
 * then one settings2tc command goes to every one of them through the IMI API, and the round trip
 * is read from the UMS's own records (`finishedAt - queuedAt`).
 *
 * `node dist/scripts/bench/fleet-scale.js [--devices N] [--topology NAME]... [--quick]`
 */

import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import {
  CORES,
  FleetProcess,
  FleetSummaryLine,
  MemorySampler,
  Percentiles,
  QUICK,
  flag,
  percentiles,
  processTree,
  roundTripMs,
  round1,
  round2,
  runTopology,
  say,
  status,
  waitForCommands,
  workDir,
  removeWorkDir,
  benchLab,
  deviceIds,
  RunningTopology,
} from "./harness";

export interface FleetScaleOptions {
  readonly devices: number;
  /** Fleet processes the devices are spread over. @default 1 */
  readonly fleets?: number;
  /** Devices in their first onboarding/connect at once, per fleet process. */
  readonly startConcurrency?: number;
  /** Give up on onboarding after this long. */
  readonly timeoutMs?: number;
}

export interface FleetScaleResult {
  readonly topology: TopologyName;
  readonly measured: boolean;
  /** Why it was not measured (the topology did not start, devices did not come online...). */
  readonly reason?: string;
  readonly devices: number;
  readonly fleets: number;
  /** Fleet processes spawned → every device online, ms. */
  readonly onboardingWallMs?: number;
  readonly onboardedPerSecond?: number;
  /** Per device, from the device's clock: CSR out → certificate back. */
  readonly onboardingMs?: FleetSummaryLine["onboardingMs"];
  /** Per device: TCP + TLS + upgrade + welcome. */
  readonly connectMs?: FleetSummaryLine["connectMs"];
  /** IMI POST sent → every command seen SUCCESS by polling, ms. */
  readonly commandsWallMs?: number;
  /** UMS record: finishedAt - queuedAt, ms. */
  readonly roundTripMs?: Percentiles;
  /** Fleet spawned → every command SUCCESS, ms (the target's figure). */
  readonly totalMs?: number;
  readonly commandsOk?: number;
  readonly duplicateDeliveries?: number;
  readonly reconnects?: number;
  /** CPU seconds per component over onboarding + commands (ums, alb, icg, nginx, fleet). */
  readonly cpuSeconds?: Readonly<Record<string, number>>;
  /** Peak VmHWM per component, MiB. */
  readonly peakMiB?: Readonly<Record<string, number>>;
}

const SETTINGS = { "sessions.browser.start_page": "https://ums-edge.example/bench" };

/** Unit bases far apart per run, so MACs never collide with another fleet's. */
let nextUnitBase = 0x100000;

export async function measureFleetScale(name: TopologyName, o: FleetScaleOptions): Promise<FleetScaleResult> {
  const fleets = Math.max(1, o.fleets ?? 1);
  const base = { topology: name, devices: o.devices, fleets };
  const lab = await benchLab();
  let running: RunningTopology;
  status(`${name}: starting the topology`, true);
  try {
    running = await runTopology(name);
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    say(`${name}: not measured: the topology did not start (${reason})`);
    return { ...base, measured: false, reason: `the topology did not start: ${reason}` };
  }
  const { topology, imi } = running;
  const dir = workDir(`fleet-scale-${name}`);
  const procs: FleetProcess[] = [];
  const sampler = new MemorySampler(() => [...running.roots, ...procs.map((p, i) => ({ name: `fleet${i}`, pid: p.pid }))], 500);
  try {
    const keys = await imi.mintEnrollmentKeys(o.devices);
    const cpu0 = cpuByComponent(running, []);
    sampler.start();
    status(`${name}: ${o.devices} devices onboarding (${fleets} fleet process${fleets > 1 ? "es" : ""})`, true);
    const t0 = performance.now();
    for (let i = 0; i < fleets; i++) {
      const from = Math.floor((o.devices * i) / fleets);
      const to = Math.floor((o.devices * (i + 1)) / fleets);
      procs.push(
        new FleetProcess(`${name}-fleet${i}`, {
          topology,
          pkiDir: lab.pki.dir,
          count: to - from,
          enrollmentKeys: keys.slice(from, to),
          unitBase: (nextUnitBase += 0x10000),
          startConcurrency: o.startConcurrency ?? 64,
          workDir: dir,
        }),
      );
    }
    const timeoutMs = o.timeoutMs ?? 120_000;
    const settled = await withTimeout(Promise.all(procs.map((p) => p.settled)), timeoutMs, `${name}: devices did not settle within ${timeoutMs} ms`);
    const onboardedAt = Math.max(...procs.map((p) => p.settledAt!));
    const online = settled.reduce((a, s) => a + (s.states.online ?? 0), 0);
    if (online < o.devices) {
      const refusals: Record<string, number> = {};
      for (const s of settled) for (const [k, v] of Object.entries(s.lastRefusals)) refusals[k] = (refusals[k] ?? 0) + v;
      const reason = `only ${online} of ${o.devices} devices came online; states ${JSON.stringify(mergeCounts(settled.map((s) => s.states)))}; refusals ${JSON.stringify(refusals).slice(0, 300)}`;
      say(`${name}: not measured: ${reason}`);
      return { ...base, measured: false, reason };
    }
    const onboardingWallMs = onboardedAt - t0;
    say(`${name}: ${o.devices} devices online in ${(onboardingWallMs / 1000).toFixed(2)} s (${round1((o.devices * 1000) / onboardingWallMs)} devices/s)`);

    status(`${name}: commanding ${o.devices} devices`, true);
    const ids = await deviceIds(imi);
    const c0 = performance.now();
    const execs = await imi.command("settings2tc", ids, SETTINGS);
    const { records, seenAt } = await waitForCommands(
      imi,
      execs.map((e) => e.exec_id),
      60_000,
      100,
      (n) => status(`${name}: ${n}/${execs.length} commands finished`),
    );
    const totalMs = seenAt - t0;
    const rtts = records.flatMap((r) => (r.state === "SUCCESS" ? [roundTripMs(r)!] : []));
    const cpu = cpuByComponent(running, procs, cpu0);
    sampler.stop();
    const stats = await Promise.all(procs.map((p) => p.stop()));
    const result: FleetScaleResult = {
      ...base,
      measured: true,
      onboardingWallMs: Math.round(onboardingWallMs),
      onboardedPerSecond: round1((o.devices * 1000) / onboardingWallMs),
      onboardingMs: mergeSummaries(settled.map((s) => s.onboardingMs)),
      connectMs: mergeSummaries(settled.map((s) => s.connectMs)),
      commandsWallMs: Math.round(seenAt - c0),
      roundTripMs: percentiles(rtts),
      totalMs: Math.round(totalMs),
      commandsOk: rtts.length,
      duplicateDeliveries: stats.reduce((a, s) => a + (s?.duplicateDeliveries ?? 0), 0),
      reconnects: stats.reduce((a, s) => a + (s?.reconnects ?? 0), 0),
      cpuSeconds: cpu,
      peakMiB: Object.fromEntries([...sampler.peak].map(([k, v]) => [k, Math.round(v.hwmMiB)])),
    };
    say(
      `${name}: ${rtts.length}/${execs.length} commands SUCCESS in ${result.commandsWallMs} ms (round trip p50 ${result.roundTripMs!.p50} ms, p99 ${result.roundTripMs!.p99} ms); total ${(totalMs / 1000).toFixed(2)} s; CPU s ${JSON.stringify(cpu)}`,
    );
    return result;
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    say(`${name}: not measured: ${reason}`);
    return { ...base, measured: false, reason };
  } finally {
    sampler.stop();
    await Promise.all(procs.map((p) => p.stop(5000)));
    await topology.stop();
    removeWorkDir(dir);
  }
}

/** CPU seconds per component (whole process trees), since `since`. */
function cpuByComponent(running: RunningTopology, fleets: readonly FleetProcess[], since: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of running.roots) out[r.name] = processTree(r.pid).reduce((a, p) => a + p.cpu, 0);
  if (fleets.length > 0) out.fleet = fleets.reduce((a, f) => a + processTree(f.pid).reduce((b, p) => b + p.cpu, 0), 0);
  for (const k of Object.keys(out)) out[k] = round2(out[k] - (since[k] ?? 0));
  return out;
}

function mergeCounts(list: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of list) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Merges per-fleet summaries: counts add up; p50/p95/max are count-weighted (p50, p95) or the largest (max). */
function mergeSummaries(list: ReadonlyArray<FleetSummaryLine["onboardingMs"]>): FleetSummaryLine["onboardingMs"] {
  const withData = list.filter((s) => s.count > 0);
  const count = withData.reduce((a, s) => a + s.count, 0);
  if (count === 0) return { count: 0 };
  const weighted = (k: "p50" | "p95" | "mean") => round1(withData.reduce((a, s) => a + (s[k] ?? 0) * s.count, 0) / count);
  return { count, p50: weighted("p50"), p95: weighted("p95"), mean: weighted("mean"), max: Math.max(...withData.map((s) => s.max ?? 0)) };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  const devices = flag("devices", QUICK ? 100 : 1000);
  const fleets = flag("fleets", 1);
  const only = process.argv.flatMap((a, i) => (process.argv[i - 1] === "--topology" ? [a as TopologyName] : []));
  const names: TopologyName[] = only.length > 0 ? only : ["alb-verify"];
  say(`fleet-scale: ${devices} devices, ${fleets} fleet process(es), ${CORES} cores`);
  for (const n of names) {
    const r = await measureFleetScale(n, { devices, fleets, startConcurrency: flag("start-concurrency", 64) });
    process.stdout.write(JSON.stringify(r) + "\n");
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`fleet-scale: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}

