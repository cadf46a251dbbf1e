import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { percentiles, Percentiles } from "../../simulator/common/stats";
import type { BenchLab, RunningTopology } from "./bench-topology";
import { removeWorkDir, runTopology, workDir } from "./bench-topology";
import { FleetProcess } from "./fleet-process";
import { allCommands, deviceIds, roundTripMs } from "./fleet-commands";
import { say, sleep, status } from "./progress";

/**
 * Command round trip per topology with the same device count. IGEL's connection-options document
 * says the ICG adds latency and lengthens command execution compared with a reverse proxy; the
 * section built on this asserts `icg > reverse-proxy` — in the benchmark, not in a timed unit test.
 *
 * Every topology runs at once, each with its own UMS, front and fleet process of D devices; the
 * samples are interleaved (one command per topology in turn, in a shuffled order each round), so
 * every topology sees the same background load — this machine is shared. One command at a time:
 * the round trip is the path's latency, not queueing. The figure is the UMS's own record,
 * `finishedAt - queuedAt` (ms resolution: the mean over many samples is the figure to compare);
 * the bench waits for the device's own report of each command (the fleet's event lines), so no
 * polling of the UMS runs while a command is on its way.
 */

export interface LatencyOptions {
  readonly topologies: readonly TopologyName[];
  /** Devices per topology (the same everywhere). */
  readonly devices: number;
  /** Commands per topology, one at a time. */
  readonly samples: number;
}

export interface TopologyLatency {
  readonly topology: TopologyName;
  readonly measured: boolean;
  readonly reason?: string;
  readonly devices: number;
  /** UMS record, finishedAt - queuedAt, ms. */
  readonly roundTripMs?: Percentiles;
  /** IMI POST sent → the device reports it executed the command (the bench's clock), ms. */
  readonly deliveryMs?: Percentiles;
}

/** A topology under measurement: its fleet's command reports, and the samples so far. */
interface Live {
  readonly name: TopologyName;
  readonly running: RunningTopology;
  readonly fleet: FleetProcess;
  readonly ids: string[];
  readonly execIds: string[];
  readonly delivery: number[];
  /** Commands someone waits for, and commands the device reported before anyone waited. */
  readonly waiting: Map<string, () => void>;
  readonly executed: Set<string>;
  failure?: string;
}

const SETTINGS = { "sessions.browser.start_page": "https://ums-edge.example/latency" };

function shuffled<T>(list: readonly T[]): T[] {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Sends one command and resolves when the device reports it executed (recording the time from send to that report). */
async function oneCommand(t: Live, deviceId: string, record: boolean): Promise<void> {
  const sent = performance.now();
  let done!: () => void;
  const executed = new Promise<void>((r) => (done = r));
  const [exec] = await t.running.imi.command("settings2tc", [deviceId], SETTINGS);
  // The device's report may have come in before the POST's answer.
  if (t.executed.delete(exec.exec_id)) done();
  else t.waiting.set(exec.exec_id, done);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${t.name}: command ${exec.exec_id} not executed within 10 s`)), 10_000)));
  try {
    await Promise.race([executed, timeout]);
  } finally {
    clearTimeout(timer);
    t.waiting.delete(exec.exec_id);
  }
  if (record) {
    t.execIds.push(exec.exec_id);
    t.delivery.push(performance.now() - sent);
  }
}

/** Starts a topology with its fleet online and warmed up; a TopologyLatency saying why when it cannot. */
async function startLive(bench: BenchLab, name: TopologyName, index: number, o: LatencyOptions, dir: string): Promise<Live | TopologyLatency> {
  status(`latency: starting ${name} with ${o.devices} devices`, true);
  let running: RunningTopology;
  try {
    running = await runTopology(bench, name, { instance: "latency" });
  } catch (e) {
    return { topology: name, measured: false, reason: `the topology did not start: ${(e as Error).message.split("\n")[0]}`, devices: o.devices };
  }
  const waiting = new Map<string, () => void>();
  const executed = new Set<string>();
  let fleet: FleetProcess | undefined;
  try {
    fleet = await FleetProcess.start(`latency-${name}`, {
      bench,
      topology: running.topology,
      count: o.devices,
      enrollmentKeys: await running.imi.mintEnrollmentKeys(o.devices),
      unitBase: 0x300000 + index * 0x1000,
      startConcurrency: 8,
      workDir: dir,
      onDeviceEvent: (e) => {
        if (e.type !== "command") return;
        const waiter = waiting.get(e.commandId);
        if (waiter) waiter();
        else executed.add(e.commandId);
      },
    });
    const settled = await fleet.settled;
    if ((settled.states.online ?? 0) < o.devices) throw new Error(`only ${settled.states.online ?? 0} of ${o.devices} devices came online (${JSON.stringify(settled.lastRefusals).slice(0, 200)})`);
    const t: Live = { name, running, fleet, ids: await deviceIds(running.imi), execIds: [], delivery: [], waiting, executed };
    // Warm-up: the first command on each connection pays for lazy set-up on every hop.
    for (const id of t.ids) await oneCommand(t, id, false);
    return t;
  } catch (e) {
    await fleet?.stop(5000);
    await running.topology.stop();
    return { topology: name, measured: false, reason: (e as Error).message.split("\n")[0], devices: o.devices };
  }
}

/** The UMS's records of the recorded commands, read once after the run. */
async function resultOf(t: Live, devices: number): Promise<TopologyLatency> {
  if (t.failure) return { topology: t.name, measured: false, reason: t.failure, devices };
  const wanted = new Set(t.execIds);
  const records = (await allCommands(t.running.imi)).filter((c) => wanted.has(c.exec_id));
  const rtts = records.flatMap((r) => (r.state === "SUCCESS" && roundTripMs(r) !== undefined ? [roundTripMs(r)!] : []));
  return { topology: t.name, measured: true, devices, roundTripMs: percentiles(rtts), deliveryMs: percentiles(t.delivery) };
}

export async function measureTopologyLatency(bench: BenchLab, o: LatencyOptions): Promise<TopologyLatency[]> {
  const dir = workDir("topology-latency");
  const live: Live[] = [];
  const results = new Map<TopologyName, TopologyLatency>();
  try {
    // Every topology started (one after the other), each with its fleet online.
    for (const [i, name] of o.topologies.entries()) {
      const t = await startLive(bench, name, i, o, dir);
      if ("running" in t) live.push(t);
      else {
        say(`latency: ${name} not measured: ${t.reason}`);
        results.set(name, t);
      }
    }
    // Interleaved samples: one command per topology in turn.
    for (let s = 0; s < o.samples; s++) {
      if (s % 10 === 0) status(`latency: sample ${s}/${o.samples} on ${live.filter((t) => !t.failure).length} topologies`, s % 50 === 0);
      for (const t of shuffled(live)) {
        if (t.failure) continue;
        try {
          await oneCommand(t, t.ids[s % t.ids.length], true);
        } catch (e) {
          t.failure = (e as Error).message;
        }
        await sleep(3);
      }
    }
    await sleep(50);
    for (const t of live) results.set(t.name, await resultOf(t, o.devices));
  } finally {
    status("latency: stopping", true);
    for (const t of live) {
      await t.fleet.stop(5000);
      await t.running.topology.stop();
    }
    removeWorkDir(dir);
  }
  return o.topologies.map((n) => results.get(n)!);
}
