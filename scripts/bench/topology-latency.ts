/**
 * Command round trip per topology with the same device count (issue 5, "Measured"). IGEL's
 * connection-options document says the ICG adds latency and lengthens command execution compared
 * with a reverse proxy; this measures it and asserts `icg > reverse-proxy` — in the benchmark, not
 * in a timed unit test.
 *
 * Every topology runs at once, each with its own UMS, front and fleet process of D devices; the
 * samples are interleaved (one command per topology in turn, in a shuffled order each round), so
 * every topology sees the same background load — this machine is shared. One command at a time:
 * the round trip is the path's latency, not queueing. The figure is the UMS's own record,
 * `finishedAt - queuedAt` (ms resolution: the mean over many samples is the figure to compare);
 * the bench waits for the device's own report of each command (the fleet's event lines), so no
 * polling of the UMS runs while a command is on its way.
 *
 * `node dist/scripts/bench/topology-latency.js [--devices D] [--samples S] [--quick]`
 */
import { TOPOLOGIES, TopologyName } from "../../simulator/runtime/topologies/definitions";
import type { ImiCommandExec } from "../../simulator/protocol/imi";
import {
  benchLab,
  FleetProcess,
  Percentiles,
  QUICK,
  allCommands,
  deviceIds,
  flag,
  percentiles,
  roundTripMs,
  runTopology,
  say,
  sleep,
  status,
  workDir,
  removeWorkDir,
  RunningTopology,
} from "./harness";

export interface LatencyOptions {
  readonly topologies?: readonly TopologyName[];
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

export interface LatencyResult {
  readonly devices: number;
  readonly samples: number;
  readonly topologies: readonly TopologyLatency[];
  /** `icg > reverse-proxy` on the mean UMS round trip; undefined when one of them was not measured. */
  readonly icgSlowerThanReverseProxy?: boolean;
  readonly ordering: string;
}

interface Live {
  readonly name: TopologyName;
  readonly running: RunningTopology;
  readonly fleet: FleetProcess;
  readonly ids: string[];
  readonly execIds: string[];
  readonly delivery: number[];
  readonly waiting: Map<string, () => void>;
  /** Commands the device reported before anyone waited for them. */
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

export async function measureTopologyLatency(o: LatencyOptions): Promise<LatencyResult> {
  const names = o.topologies ?? TOPOLOGIES;
  const lab = await benchLab();
  const dir = workDir("topology-latency");
  const live: Live[] = [];
  const results = new Map<TopologyName, TopologyLatency>();
  try {
    // Start every topology (one after the other), each with its fleet online.
    for (const [i, name] of names.entries()) {
      status(`latency: starting ${name} with ${o.devices} devices`, true);
      let running: RunningTopology;
      try {
        running = await runTopology(name, { instance: "latency" });
      } catch (e) {
        const reason = `the topology did not start: ${(e as Error).message.split("\n")[0]}`;
        say(`latency: ${name} not measured: ${reason}`);
        results.set(name, { topology: name, measured: false, reason, devices: o.devices });
        continue;
      }
      const waiting = new Map<string, () => void>();
      const executed = new Set<string>();
      let fleet: FleetProcess | undefined;
      try {
        const keys = await running.imi.mintEnrollmentKeys(o.devices);
        fleet = new FleetProcess(`latency-${name}`, {
          topology: running.topology,
          pkiDir: lab.pki.dir,
          count: o.devices,
          enrollmentKeys: keys,
          unitBase: 0x300000 + i * 0x1000,
          startConcurrency: 8,
          workDir: dir,
          onDeviceEvent: (e) => {
            if (e.type !== "command" || !e.commandId) return;
            const waiter = waiting.get(e.commandId);
            if (waiter) waiter();
            else executed.add(e.commandId);
          },
        });
        const settled = await fleet.settled;
        if ((settled.states.online ?? 0) < o.devices) throw new Error(`only ${settled.states.online ?? 0} of ${o.devices} devices came online (${JSON.stringify(settled.lastRefusals).slice(0, 200)})`);
        const ids = await deviceIds(running.imi);
        const t: Live = { name, running, fleet, ids, execIds: [], delivery: [], waiting, executed };
        // Warm-up: the first command on each connection pays for lazy set-up on every hop.
        for (const id of ids) await oneCommand(t, id, false);
        live.push(t);
      } catch (e) {
        const reason = (e as Error).message.split("\n")[0];
        say(`latency: ${name} not measured: ${reason}`);
        results.set(name, { topology: name, measured: false, reason, devices: o.devices });
        await fleet?.stop(5000);
        await running.topology.stop();
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
    // The UMS's records, read once per topology after the run.
    for (const t of live) {
      if (t.failure) {
        results.set(t.name, { topology: t.name, measured: false, reason: t.failure, devices: o.devices });
        continue;
      }
      await sleep(50);
      const wanted = new Set(t.execIds);
      const records: ImiCommandExec[] = (await allCommands(t.running.imi)).filter((c) => wanted.has(c.exec_id));
      const rtts = records.flatMap((r) => (r.state === "SUCCESS" && roundTripMs(r) !== undefined ? [roundTripMs(r)!] : []));
      results.set(t.name, { topology: t.name, measured: true, devices: o.devices, roundTripMs: percentiles(rtts), deliveryMs: percentiles(t.delivery) });
    }
  } finally {
    status("latency: stopping", true);
    for (const t of live) {
      await t.fleet.stop(5000);
      await t.running.topology.stop();
    }
    removeWorkDir(dir);
  }
  const ordered = names.map((n) => results.get(n)!).filter(Boolean);
  const icg = results.get("icg");
  const rp = results.get("reverse-proxy");
  let icgSlowerThanReverseProxy: boolean | undefined;
  let ordering: string;
  if (!icg?.measured || !rp?.measured) {
    ordering = `icg > reverse-proxy cannot be checked: ${!icg?.measured ? `icg not measured (${icg?.reason ?? "not run"})` : `reverse-proxy not measured (${rp?.reason ?? "not run"})`}`;
  } else {
    icgSlowerThanReverseProxy = icg.roundTripMs!.mean > rp.roundTripMs!.mean;
    ordering = `command round trip mean: icg ${icg.roundTripMs!.mean} ms ${icgSlowerThanReverseProxy ? ">" : "<="} reverse-proxy ${rp.roundTripMs!.mean} ms (p50 ${icg.roundTripMs!.p50} vs ${rp.roundTripMs!.p50} ms): ${
      icgSlowerThanReverseProxy ? "the ICG adds latency, as IGEL's document says" : "DOES NOT HOLD"
    }`;
  }
  return { devices: o.devices, samples: o.samples, topologies: ordered, icgSlowerThanReverseProxy, ordering };
}

async function main(): Promise<void> {
  const r = await measureTopologyLatency({ devices: flag("devices", QUICK ? 5 : 20), samples: flag("samples", QUICK ? 40 : 200) });
  process.stdout.write(JSON.stringify(r, null, 2) + "\n");
  say(r.ordering);
  process.exitCode = r.icgSlowerThanReverseProxy ? 0 : 1;
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`topology-latency: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
