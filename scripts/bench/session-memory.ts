/**
 * Memory of held sessions: N device sessions (management WebSockets, mTLS through the ALB
 * emulator in verify mode) held at once, and the memory of every process involved — the fleet
 * processes, the ALB emulator (primary and workers) and the UMS — read from /proc/<pid>/status:
 * VmHWM (each process's own peak, onboarding included) and VmRSS (resident while the sessions are
 * held). Figures: total, and per 1,000 held sessions.
 *
 * `node dist/scripts/bench/session-memory.js [--sessions N] [--quick]`
 *
 * Settings, and why:
 * - the UMS tells devices a 30 s heartbeat (the mock's own default, and the order of a real
 *   UMS's) instead of the simulation's 1 s: 10,000 sessions at 1 s would measure heartbeat
 *   traffic, not held sessions;
 * - the ALB emulator runs 2 node:cluster workers (more if the sessions need them): a process may
 *   hold at most `ulimit -n` = 20,000 descriptors here (the hard limit; Node raises its soft limit
 *   to it, and this machine does not let even root raise the hard one), and every session is 2
 *   sockets in the ALB (device side and target side);
 * - devices are spread over fleet processes of at most 5,000 devices each (one process per 5,000: each Node process adds ~45 MiB of its own).
 */
import * as fs from "node:fs";
import {
  benchLab,
  FleetProcess,
  FleetSummaryLine,
  MemorySampler,
  QUICK,
  flag,
  runTopology,
  say,
  sampleGroups,
  sleep,
  status,
  workDir,
  removeWorkDir,
  round1,
  RunningTopology,
  GroupSample,
  MemoryBreakdown,
  memoryBreakdown,
  processTree,
  openFilesLimit,
} from "./harness";

export interface SessionMemoryOptions {
  readonly sessions: number;
  /** Devices per fleet process. @default 5000 */
  readonly perFleet?: number;
  /** ALB emulator processes. @default 2 */
  readonly albWorkers?: number;
  /** How long the sessions are held once all are up, before the final reading, ms. @default 10000 */
  readonly holdMs?: number;
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
  /** Sum of the group's processes' VmHWM at the end, MiB. */
  readonly peakMiB: number;
  readonly cpuSeconds: number;
  /** Where the held memory is (see MemoryBreakdown), MiB. */
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

/** Open descriptors of a process tree (sockets, mostly): a progress count that costs the processes nothing. */
function descriptorCount(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export async function measureSessionMemory(o: SessionMemoryOptions): Promise<SessionMemoryResult> {
  const perFleet = o.perFleet ?? 5000;
  const fleets = Math.max(1, Math.ceil(o.sessions / perFleet));
  // Descriptors: every session is one in the UMS, two in the ALB emulator (shared among its
  // workers), one in its fleet process; each process may hold at most the hard limit.
  const { hard } = openFilesLimit();
  const room = hard - 200;
  const albWorkers = Math.max(o.albWorkers ?? 2, Math.ceil((2 * o.sessions) / room));
  if (o.sessions > room || Math.ceil(o.sessions / fleets) > room) {
    return { sessions: o.sessions, measured: false, reason: `${o.sessions} sessions need ${o.sessions} descriptors in the UMS, but a process may hold at most ${hard} here (ulimit -n hard limit)` };
  }
  const heartbeatMs = o.heartbeatMs ?? 30_000;
  const base = { sessions: o.sessions, fleets, albWorkers, heartbeatMs };
  const lab = await benchLab();
  let running: RunningTopology;
  status("session-memory: starting alb-verify", true);
  try {
    running = await runTopology("alb-verify", { umsHeartbeatMs: heartbeatMs, albWorkers });
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    return { ...base, measured: false, reason: `alb-verify did not start: ${reason}` };
  }
  const { topology, imi } = running;
  const dir = workDir("session-memory");
  const procs: FleetProcess[] = [];
  const fleetRoots = () => procs.map((p, i) => ({ name: `fleet${i}`, pid: p.pid }));
  const sampler = new MemorySampler(() => [...running.roots, ...fleetRoots()], 1000);
  try {
    await sleep(1000);
    const idle = new Map(sampleGroups(running.roots).map((g) => [g.name, g]));
    const keys: string[] = [];
    while (keys.length < o.sessions) keys.push(...(await imi.mintEnrollmentKeys(Math.min(10_000, o.sessions - keys.length))));
    sampler.start();
    const t0 = performance.now();
    for (let i = 0; i < fleets; i++) {
      const from = Math.floor((o.sessions * i) / fleets);
      const to = Math.floor((o.sessions * (i + 1)) / fleets);
      procs.push(
        new FleetProcess(`sessions-fleet${i}`, {
          topology,
          pkiDir: lab.pki.dir,
          count: to - from,
          enrollmentKeys: keys.slice(from, to),
          unitBase: 0x200000 + i * 0x10000,
          startConcurrency: 32,
          handshakeTimeoutMs: 60_000,
          workDir: dir,
        }),
      );
    }
    const umsPid = running.roots.find((r) => r.name === "ums")!.pid;
    const progress = setInterval(() => {
      const sockets = descriptorCount(umsPid);
      status(`session-memory: ~${sockets} descriptors open in the UMS, ${round1((performance.now() - t0) / 1000)} s`, true);
    }, 5000);
    let settled: FleetSummaryLine[];
    try {
      settled = await Promise.all(procs.map((p) => p.settled));
    } finally {
      clearInterval(progress);
    }
    const rampMs = Math.max(...procs.map((p) => p.settledAt!)) - t0;
    const held = settled.reduce((a, s) => a + (s.states.online ?? 0), 0);
    if (held < o.sessions) {
      const refusals: Record<string, number> = {};
      for (const s of settled) for (const [k, v] of Object.entries(s.lastRefusals)) refusals[k] = (refusals[k] ?? 0) + v;
      return { ...base, measured: false, held, reason: `only ${held} of ${o.sessions} sessions came up; refusals ${JSON.stringify(refusals).slice(0, 300)}` };
    }
    say(`session-memory: ${held} sessions up in ${round1(rampMs / 1000)} s; holding them ${Math.round((o.holdMs ?? 10_000) / 1000)} s`);
    await sleep(o.holdMs ?? 10_000);
    // Still held? The UMS must list every device online.
    const online = (await imi.thinclients()).filter((t) => t.online).length;
    const roots = [...running.roots, ...fleetRoots()];
    const heldGroups = sampleGroups(roots);
    const breakdowns = new Map(roots.map((r) => [r.name, sumBreakdowns(processTree(r.pid).map((p) => memoryBreakdown(p.pid)))]));
    sampler.stop();
    if (online < o.sessions) return { ...base, measured: false, held: online, reason: `after the hold the UMS lists ${online} of ${o.sessions} devices online` };
    const albPid = running.roots.find((r) => r.name === "alb")!.pid;
    const descriptors = {
      ums: descriptorCount(umsPid),
      alb: [albPid, ...childPids(albPid)].reduce((a, p) => a + descriptorCount(p), 0),
    };
    const groups = groupMemory(heldGroups, idle, sampler, breakdowns);
    const totalPeakMiB = Math.round(groups.reduce((a, g) => a + g.peakMiB, 0));
    const totalHeldRssMiB = Math.round(groups.reduce((a, g) => a + g.heldRssMiB, 0));
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

function sumBreakdowns(list: readonly MemoryBreakdown[]): MemoryBreakdown {
  const sum = (k: keyof MemoryBreakdown) => Math.round(list.reduce((a, b) => a + b[k], 0));
  return { nativeHeapMiB: sum("nativeHeapMiB"), anonymousMiB: sum("anonymousMiB"), fileMiB: sum("fileMiB"), pssMiB: sum("pssMiB") };
}

function groupMemory(held: readonly GroupSample[], idle: ReadonlyMap<string, GroupSample>, sampler: MemorySampler, breakdowns: ReadonlyMap<string, MemoryBreakdown>): ProcessGroupMemory[] {
  return held.map((g) => ({
    breakdown: breakdowns.get(g.name),
    name: g.name,
    processes: Math.max(g.processes, sampler.peak.get(g.name)?.processes ?? 0),
    idleRssMiB: Math.round(idle.get(g.name)?.rssMiB ?? 0),
    heldRssMiB: Math.round(g.rssMiB),
    peakMiB: Math.round(Math.max(g.hwmMiB, sampler.peak.get(g.name)?.hwmMiB ?? 0)),
    cpuSeconds: Math.round(g.cpuSeconds * 10) / 10,
  }));
}

async function main(): Promise<void> {
  const sessions = flag("sessions", QUICK ? 1000 : 10_000);
  const r = await measureSessionMemory({ sessions, perFleet: flag("per-fleet", 5000), albWorkers: flag("alb-workers", 2), holdMs: flag("hold-ms", 10_000) });
  process.stdout.write(JSON.stringify(r, null, 2) + "\n");
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`session-memory: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
