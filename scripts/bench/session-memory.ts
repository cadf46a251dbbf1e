import type { BenchLab, RunningTopology } from "./bench-topology";
import { removeWorkDir, runTopology, workDir } from "./bench-topology";
import { FleetProcess, FleetStatsLine } from "./fleet-process";
import { MemorySampler, GroupSample } from "./memory-sampler";
import { descriptorCount, descriptorRoom, frontProcessesFor, memoryBreakdown, openFilesLimit, processTree, sumBreakdowns, MemoryBreakdown } from "./process-tree";
import { round1 } from "./figures";
import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import type { NginxScale } from "../../simulator/proxy/nginx-config";
import { say, sleep, status } from "./progress";

/**
 * Memory of held sessions: N device sessions (management WebSockets with mTLS) held at once through
 * one front — the ALB emulator's verify listener (topology alb-verify) or real nginx doing the same
 * job (topology reverse-proxy: mTLS termination, the forwarded-certificate header, TLS to the UMS,
 * WebSocket proxying) — and the memory of every process involved — the fleet processes, the front
 * (all its processes) and the UMS — read from /proc: VmHWM (each process's own peak, onboarding
 * included) and VmRSS (resident while the sessions are held, and before any device: the idle baseline).
 *
 * What one more session costs is the slope: (resident held − resident idle) / N. Total / N is not a
 * per-session figure: at 100 sessions it is almost all idle baseline.
 *
 * Settings, and why:
 * - the UMS tells devices a 30 s heartbeat (the mock's own default, and the order of a real
 *   UMS's) instead of the simulation's 1 s: 10,000 sessions at 1 s would measure heartbeat
 *   traffic, not held sessions;
 * - the front runs 2 processes (ALB emulator node:cluster workers, nginx workers; more if the
 *   sessions need them): a process may hold at most `ulimit -n` descriptors (the hard limit; Node
 *   raises its soft limit to it, nginx is given worker_rlimit_nofile), and every session is 2
 *   sockets in the front (device side and target side). Both fronts get the same count;
 * - devices are spread over fleet processes of at most 5,000 devices each.
 */

/** The front the sessions are held through, and the topology that has it. */
export type SessionFront = "alb" | "nginx";
export const FRONT_TOPOLOGY: Readonly<Record<SessionFront, TopologyName>> = { alb: "alb-verify", nginx: "reverse-proxy" };

export interface SessionMemoryOptions {
  readonly sessions: number;
  /** How long the sessions are held once all are up, before the reading, ms. */
  readonly holdMs: number;
  /** @default "alb" */
  readonly front?: SessionFront;
  /** Devices per fleet process. @default 5000 */
  readonly perFleet?: number;
  /** Processes of the front (at least). @default 2 */
  readonly frontWorkers?: number;
  /** Heartbeat the UMS tells devices, ms. @default 30000 */
  readonly heartbeatMs?: number;
}

export interface ProcessGroupMemory {
  readonly name: string;
  readonly processes: number;
  /** Before any device: the idle component, MiB (0 for the fleets: they start with their devices). */
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
  readonly front: SessionFront;
  readonly topology: TopologyName;
  readonly sessions: number;
  readonly held?: number;
  readonly fleets?: number;
  /** Processes serving the front (ALB emulator workers, nginx workers). */
  readonly frontWorkers?: number;
  readonly heartbeatMs?: number;
  readonly holdMs?: number;
  /** Fleets spawned → every session up, ms. */
  readonly rampMs?: number;
  readonly groups?: readonly ProcessGroupMemory[];
  /** Sum over every process of its own peak (VmHWM), MiB: the target's figure. */
  readonly totalPeakMiB?: number;
  /** Highest simultaneous sum of VmRSS seen by sampling, MiB. */
  readonly sampledPeakRssMiB?: number;
  /** Sum of VmRSS before any device (the UMS and the front), MiB. */
  readonly totalIdleRssMiB?: number;
  /** Sum of VmRSS while the sessions are held, MiB. */
  readonly totalHeldRssMiB?: number;
  /** Sum of PSS while held (shared pages, e.g. the node binary, counted once), MiB. */
  readonly totalHeldPssMiB?: number;
  /** Slope of every process: (held − idle) / sessions, KiB (the fleets' own baseline included). */
  readonly perSessionKiB?: number;
  /** Slope of the front alone: (held − idle) / sessions, KiB. */
  readonly frontPerSessionKiB?: number;
  /** Descriptors the UMS and the front held with the sessions up. */
  readonly descriptors?: Readonly<Record<string, number>>;
}

/** (held − idle) / sessions of some groups, KiB: what one more held session costs them. */
export function slopeKiB(groups: readonly ProcessGroupMemory[], sessions: number): number {
  return round1((groups.reduce((a, g) => a + g.heldRssMiB - g.idleRssMiB, 0) * 1024) / sessions);
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

/** nginx's scale for this many workers: each may open up to the hard limit of descriptors. */
function nginxScale(workers: number, hard: number): NginxScale {
  const rlimit = Math.min(hard, 1 << 20);
  return { workerProcesses: workers, workerRlimitNofile: rlimit, workerConnections: rlimit - 100 };
}

export async function measureSessionMemory(bench: BenchLab, o: SessionMemoryOptions): Promise<SessionMemoryResult> {
  const front = o.front ?? "alb";
  const topologyName = FRONT_TOPOLOGY[front];
  const perFleet = o.perFleet ?? 5000;
  const fleets = Math.max(1, Math.ceil(o.sessions / perFleet));
  // Descriptors: every session is one in the UMS, two in the front (shared among its workers),
  // one in its fleet process; each process may hold at most the hard limit.
  const { hard } = openFilesLimit();
  const room = descriptorRoom();
  const frontWorkers = frontProcessesFor(o.sessions, o.frontWorkers ?? 2);
  const heartbeatMs = o.heartbeatMs ?? 30_000;
  const base = { front, topology: topologyName, sessions: o.sessions, fleets, frontWorkers, heartbeatMs, holdMs: o.holdMs };
  if (o.sessions > room) return { ...base, measured: false, reason: `${o.sessions} sessions need ${o.sessions} descriptors in the UMS, but a process may hold at most ${hard} here (ulimit -n hard limit)` };
  status(`session-memory: starting ${topologyName}`, true);
  let running: RunningTopology;
  try {
    running = await runTopology(bench, topologyName, { umsHeartbeatMs: heartbeatMs, ...(front === "alb" ? { albWorkers: frontWorkers } : { nginxScale: nginxScale(frontWorkers, hard) }) });
  } catch (e) {
    return { ...base, measured: false, reason: `${topologyName} did not start: ${(e as Error).message.split("\n")[0]}` };
  }
  const { topology, imi } = running;
  const umsPid = running.roots.find((r) => r.name === "ums")!.pid;
  const frontPid = running.roots.find((r) => r.name === front)?.pid;
  if (frontPid === undefined) {
    await topology.stop();
    return { ...base, measured: false, reason: `${topologyName} has no ${front} process to measure` };
  }
  const dir = workDir(`session-memory-${front}`);
  const procs: FleetProcess[] = [];
  const roots = () => [...running.roots, ...procs.map((p, i) => ({ name: `fleet${i}`, pid: p.pid }))];
  const sampler = new MemorySampler(roots, 1000);
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
    const descriptors = { ums: descriptorCount(umsPid), [front]: processTree(frontPid).reduce((a, p) => a + descriptorCount(p.pid), 0) };
    const groups = groupMemory(heldGroups, idle, sampler, breakdowns);
    const totalPeakMiB = groups.reduce((a, g) => a + g.peakMiB, 0);
    const totalHeldRssMiB = groups.reduce((a, g) => a + g.heldRssMiB, 0);
    return {
      ...base,
      measured: true,
      held: online,
      rampMs: Math.round(rampMs),
      groups,
      totalPeakMiB,
      sampledPeakRssMiB: Math.round(sampler.peakTotalRssMiB),
      totalIdleRssMiB: groups.reduce((a, g) => a + g.idleRssMiB, 0),
      totalHeldRssMiB,
      totalHeldPssMiB: groups.reduce((a, g) => a + (g.breakdown?.pssMiB ?? 0), 0),
      perSessionKiB: slopeKiB(groups, o.sessions),
      frontPerSessionKiB: slopeKiB(groups.filter((g) => g.name === front), o.sessions),
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
