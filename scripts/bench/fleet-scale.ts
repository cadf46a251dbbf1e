import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { percentiles, Percentiles } from "../../simulator/common/stats";
import type { BenchLab, RunningTopology } from "./bench-topology";
import { removeWorkDir, runTopology, workDir } from "./bench-topology";
import { FleetProcess, FleetStatsLine } from "./fleet-process";
import { deviceIds, roundTripMs, waitForCommands } from "./fleet-commands";
import { MemorySampler } from "./memory-sampler";
import { treeCpuSeconds } from "./process-tree";
import { round1, round2 } from "./figures";
import { say, status } from "./progress";

/**
 * Onboarding and commands at scale through one topology: N devices (in a fleet process of their
 * own) onboard and open their management sessions — throughput in devices/s until all are online —
 * then one settings2tc command goes to every one of them through the IMI API, and the round trip is
 * read from the UMS's own records (`finishedAt - queuedAt`).
 */

export interface FleetScaleResult {
  readonly topology: TopologyName;
  readonly measured: boolean;
  /** Why it was not measured (the topology did not start, devices did not come online...). */
  readonly reason?: string;
  readonly devices: number;
  /** Fleet process spawned → every device online, ms. */
  readonly onboardingWallMs?: number;
  readonly onboardedPerSecond?: number;
  /** Per device, from the device's clock: CSR out → certificate back. */
  readonly onboardingMs?: Percentiles;
  /** Per device: TCP + TLS + upgrade + welcome. */
  readonly connectMs?: Percentiles;
  /** IMI POST sent → every command seen finished by polling, ms. */
  readonly commandsWallMs?: number;
  /** UMS record: finishedAt - queuedAt, ms. */
  readonly roundTripMs?: Percentiles;
  /** Fleet spawned → every command SUCCESS, ms (the target's figure). */
  readonly totalMs?: number;
  readonly commandsOk?: number;
  readonly duplicateDeliveries?: number;
  readonly reconnects?: number;
  /** CPU seconds per component over onboarding and commands (ums, alb, icg, nginx, fleet). */
  readonly cpuSeconds?: Readonly<Record<string, number>>;
  /** Peak VmHWM per component, MiB. */
  readonly peakMiB?: Readonly<Record<string, number>>;
}

const SETTINGS = { "sessions.browser.start_page": "https://ums-edge.example/bench" };

/** Unit bases far apart per run, so MACs never collide with another fleet's. */
let nextUnitBase = 0x100000;

/** CPU seconds per component (whole process trees), since `since`. */
function cpuByComponent(running: RunningTopology, fleet: FleetProcess | undefined, since: Readonly<Record<string, number>> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of running.roots) out[r.name] = treeCpuSeconds(r.pid);
  if (fleet) out.fleet = treeCpuSeconds(fleet.pid);
  for (const k of Object.keys(out)) out[k] = round2(out[k] - (since[k] ?? 0));
  return out;
}

function notOnline(settled: FleetStatsLine, devices: number): string {
  return `only ${settled.states.online ?? 0} of ${devices} devices came online; states ${JSON.stringify(settled.states)}; refusals ${JSON.stringify(settled.lastRefusals).slice(0, 300)}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]).finally(() => clearTimeout(timer));
}

export async function measureFleetScale(bench: BenchLab, name: TopologyName, devices: number): Promise<FleetScaleResult> {
  const base = { topology: name, devices };
  const notMeasured = (reason: string): FleetScaleResult => (say(`${name}: not measured: ${reason}`), { ...base, measured: false, reason });
  status(`${name}: starting the topology`, true);
  let running: RunningTopology;
  try {
    running = await runTopology(bench, name);
  } catch (e) {
    return notMeasured(`the topology did not start: ${(e as Error).message.split("\n")[0]}`);
  }
  const { topology, imi } = running;
  const dir = workDir(`fleet-scale-${name}`);
  let fleet: FleetProcess | undefined;
  const sampler = new MemorySampler(() => [...running.roots, ...(fleet ? [{ name: "fleet", pid: fleet.pid }] : [])], 500);
  try {
    const keys = await imi.mintEnrollmentKeys(devices);
    const cpu0 = cpuByComponent(running, undefined);
    sampler.start();
    status(`${name}: ${devices} devices onboarding`, true);
    const t0 = performance.now();
    fleet = await FleetProcess.start(`${name}-fleet`, { bench, topology, count: devices, enrollmentKeys: keys, unitBase: (nextUnitBase += 0x10000), startConcurrency: 64, workDir: dir });
    const settled = await withTimeout(fleet.settled, 120_000, `${name}: devices did not settle within 120 s`);
    if ((settled.states.online ?? 0) < devices) return notMeasured(notOnline(settled, devices));
    const onboardingWallMs = fleet.settledAt! - t0;
    say(`${name}: ${devices} devices online in ${(onboardingWallMs / 1000).toFixed(2)} s (${round1((devices * 1000) / onboardingWallMs)} devices/s)`);

    status(`${name}: commanding ${devices} devices`, true);
    const c0 = performance.now();
    const execs = await imi.command("settings2tc", await deviceIds(imi), SETTINGS);
    const { records, seenAt } = await waitForCommands(
      imi,
      execs.map((e) => e.exec_id),
      60_000,
      (n) => status(`${name}: ${n}/${execs.length} commands finished`),
    );
    const rtts = records.flatMap((r) => (r.state === "SUCCESS" ? [roundTripMs(r)!] : []));
    const cpu = cpuByComponent(running, fleet, cpu0);
    sampler.stop();
    const stats = await fleet.stop();
    const result: FleetScaleResult = {
      ...base,
      measured: true,
      onboardingWallMs: Math.round(onboardingWallMs),
      onboardedPerSecond: round1((devices * 1000) / onboardingWallMs),
      onboardingMs: settled.onboardingMs,
      connectMs: settled.connectMs,
      commandsWallMs: Math.round(seenAt - c0),
      roundTripMs: percentiles(rtts),
      totalMs: Math.round(seenAt - t0),
      commandsOk: rtts.length,
      duplicateDeliveries: stats?.duplicateDeliveries,
      reconnects: stats?.reconnects,
      cpuSeconds: cpu,
      peakMiB: Object.fromEntries([...sampler.peak].map(([k, v]) => [k, Math.round(v.hwmMiB)])),
    };
    say(
      `${name}: ${rtts.length}/${execs.length} commands SUCCESS in ${result.commandsWallMs} ms (round trip p50 ${result.roundTripMs!.p50} ms, p99 ${result.roundTripMs!.p99} ms); total ${(result.totalMs! / 1000).toFixed(2)} s; CPU s ${JSON.stringify(cpu)}`,
    );
    if (rtts.length < devices) return notMeasured(`${devices - rtts.length} of ${devices} commands did not succeed`);
    return result;
  } catch (e) {
    return notMeasured((e as Error).message.split("\n")[0]);
  } finally {
    sampler.stop();
    await fleet?.stop(5000);
    await topology.stop();
    removeWorkDir(dir);
  }
}
