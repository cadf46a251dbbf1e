import type { BenchLab, RunningTopology } from "./bench-topology";
import { removeWorkDir, runTopology, workDir } from "./bench-topology";
import { FleetProcess, FleetStatsLine } from "./fleet-process";
import { MemorySampler, GroupSample } from "./memory-sampler";
import { descriptorCount, memoryBreakdown, openFilesLimit, processTree, sumBreakdowns, MemoryBreakdown } from "./process-tree";
import { round1 } from "./figures";
import { say, sleep, status } from "./progress";

/**
 * Memory of held sessions: N device sessions (management WebSockets, mTLS through the ALB
 * emulator's verify listener) held at once, and the memory of every process involved — the fleet
 * processes, the ALB emulator (primary and workers) and the UMS — read from /proc: VmHWM (each
 * process's own peak, onboarding included) and VmRSS (resident while the sessions are held).
 *
 * Settings, and why:
 * - the UMS tells devices a 30 s heartbeat (the mock's own default, and the order of a real
 *   UMS's) instead of the simulation's 1 s: 10,000 sessions at 1 s would measure heartbeat
 *   traffic, not held sessions;
 * - the ALB emulator runs 2 node:cluster workers (more if the sessions need them): a process may
 *   hold at most `ulimit -n` descriptors (the hard limit; Node raises its soft limit to it), and
 *   every session is 2 sockets in the ALB (device side and target side);
 * - devices are spread over fleet processes of at most 5,000 devices each.
 */

export interface SessionMemoryOptions {
  readonly sessions: number;
  /** How long the sessions are held once all are up, before the reading, ms. */
  readonly holdMs: number;
  /** Devices per fleet process. @default 5000 */
  readonly perFleet?: number;
  /** ALB emulator processes (at least). @default 2 */
  readonly albWorkers?: number;
  /** Heartbeat the UMS tells devices, ms. @default 30000 */
  readonly heartbeatMs?: number;
}

export interface ProcessGroupMemory {
  readonly name: string;
  readonly processes: number;
  /** Before any device: the idle component, MiB. */
  readonly idleRssMiB: number;
  /** Resident while every session is held, MiB. */
  readonly heldRssMiB: number;
  /** Sum of the group's processes' VmHWM, MiB. */
  readonly peakMiB: number;
  readonly cpuSeconds: number;
  /** Where the held memory is, MiB. */
  readonly breakdown?: MemoryBreakdown;
}

export interface SessionMemoryResult {
  readonly measured: boolean;
  readonly reason?: string;
  readonly sessions: number;
  readonly held?: number;
  readonly fleets?: number;
  readonly albWorkers?: number;
  readonly heartbeatMs?: number;
  readonly holdMs?: number;
  /** Fleets spawned → every session up, ms. */
  readonly rampMs?: number;
  readonly groups?: readonly ProcessGroupMemory[];
  /** Sum over every process of its own peak (VmHWM), MiB: the target's figure. */
  readonly totalPeakMiB?: number;
  /** Highest simultaneous sum of VmRSS seen by sampling, MiB. */
  readonly sampledPeakRssMiB?: number;
  /** Sum of VmRSS while the sessions are held, MiB. */
  readonly totalHeldRssMiB?: number;
  /** Sum of PSS while held (shared pages, e.g. the node binary, counted once), MiB. */
  readonly totalHeldPssMiB?: number;
  readonly perThousandPeakMiB?: number;
  readonly perThousandHeldMiB?: number;
  /** (held - idle) per 1,000 sessions: what one more thousand sessions cost, MiB. */
  readonly perThousandMarginalMiB?: number;
  /** Descriptors the UMS and the ALB held with the sessions up. */
  readonly descriptors?: Readonly<Record<string, number>>;
}

/** Every process group at its held reading, with its idle reading and sampled peak beside it. */
export function groupMemory(held: readonly GroupSample[], idle: ReadonlyMap<string, GroupSample>, sampler: MemorySampler, breakdowns: ReadonlyMap<string, MemoryBreakdown>): ProcessGroupMemory[] {
  return held.map((g) => ({
    name: g.name,
    processes: Math.max(g.processes, sampler.peak.get(g.name)?.processes ?? 0),
    idleRssMiB: Math.round(idle.get(g.name)?.rssMiB ?? 0),
    heldRssMiB: Math.round(g.rssMiB),
    peakMiB: Math.round(Math.max(g.hwmMiB, sampler.peak.get(g.name)?.hwmMiB ?? 0)),
    cpuSeconds: round1(g.cpuSeconds),
    breakdown: breakdowns.get(g.name),
  }));
}

function notAllUp(settled: readonly FleetStatsLine[], sessions: number): string {
  const refusals: Record<string, number> = {};
  for (const s of settled) for (const [k, v] of Object.entries(s.lastRefusals)) refusals[k] = (refusals[k] ?? 0) + v;
  const held = settled.reduce((a, s) => a + (s.states.online ?? 0), 0);
  return `only ${held} of ${sessions} sessions came up; refusals ${JSON.stringify(refusals).slice(0, 300)}`;
}

export async function measureSessionMemory(bench: BenchLab, o: SessionMemoryOptions): Promise<SessionMemoryResult> {
  const perFleet = o.perFleet ?? 5000;
  const fleets = Math.max(1, Math.ceil(o.sessions / perFleet));
  // Descriptors: every session is one in the UMS, two in the ALB emulator (shared among its
  // workers), one in its fleet process; each process may hold at most the hard limit.
  const { hard } = openFilesLimit();
  const room = hard - 200;
  const albWorkers = Math.max(o.albWorkers ?? 2, Math.ceil((2 * o.sessions) / room));
  const heartbeatMs = o.heartbeatMs ?? 30_000;
  const base = { sessions: o.sessions, fleets, albWorkers, heartbeatMs, holdMs: o.holdMs };
  if (o.sessions > room) return { ...base, measured: false, reason: `${o.sessions} sessions need ${o.sessions} descriptors in the UMS, but a process may hold at most ${hard} here (ulimit -n hard limit)` };
  status("session-memory: starting alb-verify", true);
  let running: RunningTopology;
  try {
    running = await runTopology(bench, "alb-verify", { umsHeartbeatMs: heartbeatMs, albWorkers });
  } catch (e) {
    return { ...base, measured: false, reason: `alb-verify did not start: ${(e as Error).message.split("\n")[0]}` };
  }
  const { topology, imi } = running;
  const dir = workDir("session-memory");
  const procs: FleetProcess[] = [];
  const roots = () => [...running.roots, ...procs.map((p, i) => ({ name: `fleet${i}`, pid: p.pid }))];
  const sampler = new MemorySampler(roots, 1000);
  const umsPid = running.roots.find((r) => r.name === "ums")!.pid;
  const albPid = running.roots.find((r) => r.name === "alb")!.pid;
  try {
    await sleep(1000);
    const idle = new Map(sampler.sample().map((g) => [g.name, g]));
    const keys: string[] = [];
    while (keys.length < o.sessions) keys.push(...(await imi.mintEnrollmentKeys(Math.min(10_000, o.sessions - keys.length))));
    sampler.start();
    const t0 = performance.now();
    const progress = setInterval(() => status(`session-memory: ~${descriptorCount(umsPid)} descriptors open in the UMS, ${round1((performance.now() - t0) / 1000)} s`, true), 5000);
    let settled: FleetStatsLine[];
    try {
      for (let i = 0; i < fleets; i++) {
        const from = Math.floor((o.sessions * i) / fleets);
        const to = Math.floor((o.sessions * (i + 1)) / fleets);
        procs.push(
          await FleetProcess.start(`sessions-fleet${i}`, { bench, topology, count: to - from, enrollmentKeys: keys.slice(from, to), unitBase: 0x200000 + i * 0x10000, startConcurrency: 32, handshakeTimeoutMs: 60_000, workDir: dir }),
        );
      }
      settled = await Promise.all(procs.map((p) => p.settled));
    } finally {
      clearInterval(progress);
    }
    const rampMs = Math.max(...procs.map((p) => p.settledAt!)) - t0;
    if (settled.reduce((a, s) => a + (s.states.online ?? 0), 0) < o.sessions) return { ...base, measured: false, reason: notAllUp(settled, o.sessions) };
    say(`session-memory: ${o.sessions} sessions up in ${round1(rampMs / 1000)} s; holding them ${round1(o.holdMs / 1000)} s`);
    await sleep(o.holdMs);
    // Still held? The UMS must list every device online.
    const online = (await imi.thinclients()).filter((t) => t.online).length;
    const heldGroups = sampler.sample();
    const breakdowns = new Map(roots().map((r) => [r.name, sumBreakdowns(processTree(r.pid).map((p) => memoryBreakdown(p.pid)))]));
    sampler.stop();
    if (online < o.sessions) return { ...base, measured: false, held: online, reason: `after the hold the UMS lists ${online} of ${o.sessions} devices online` };
    const descriptors = { ums: descriptorCount(umsPid), alb: processTree(albPid).reduce((a, p) => a + descriptorCount(p.pid), 0) };
    const groups = groupMemory(heldGroups, idle, sampler, breakdowns);
    const totalPeakMiB = groups.reduce((a, g) => a + g.peakMiB, 0);
    const totalHeldRssMiB = groups.reduce((a, g) => a + g.heldRssMiB, 0);
    const idleTotal = [...idle.values()].reduce((a, g) => a + g.rssMiB, 0);
    const k = o.sessions / 1000;
    return {
      ...base,
      measured: true,
      held: online,
      rampMs: Math.round(rampMs),
      groups,
      totalPeakMiB,
      sampledPeakRssMiB: Math.round(sampler.peakTotalRssMiB),
      totalHeldRssMiB,
      totalHeldPssMiB: groups.reduce((a, g) => a + (g.breakdown?.pssMiB ?? 0), 0),
      perThousandPeakMiB: round1(totalPeakMiB / k),
      perThousandHeldMiB: round1(totalHeldRssMiB / k),
      perThousandMarginalMiB: round1((totalHeldRssMiB - idleTotal) / k),
      descriptors,
    };
  } catch (e) {
    return { ...base, measured: false, reason: (e as Error).message.split("\n")[0] };
  } finally {
    sampler.stop();
    status("session-memory: stopping the fleets and the topology", true);
    await Promise.all(procs.map((p) => p.stop(30_000)));
    await topology.stop();
    removeWorkDir(dir);
  }
}
