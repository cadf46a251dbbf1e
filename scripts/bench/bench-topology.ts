import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareLab, Lab } from "../../simulator/runtime/lab";
import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import { startTopology, TopologyOptions } from "../../simulator/runtime/topologies/start-topology";
import { StartedTopology, TopologySkipped } from "../../simulator/runtime/topologies/topology";
import { UserError } from "../../core/errors";
import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { KeyPool } from "../../simulator/pki/keys";
import { ImiClient } from "../../simulator/ums/imi-client";
import { onInterrupt } from "./interrupt";
import { say, status } from "./progress";
import type { Roots } from "./memory-sampler";

/**
 * The benches' lab (the simulation's own: a lab PKI, the stacks synthesized from its config, a
 * pool of device keys) and topologies started from it as `simulate --runtime loopback` starts them.
 */

const BENCH_DIR = path.join(os.tmpdir(), "ums-edge-bench");

export interface BenchLab {
  readonly lab: Lab;
  /** Keys the fleets draw from (each device still gets its own certificate): the fleets' --key-pool-size. */
  readonly keyPoolSize: number;
}

/**
 * The bench's lab, prepared once per run: the PKI and the key pool are kept between runs (an
 * RSA-2048 key costs ~0.2 s), the stacks are synthesized again.
 */
export async function prepareBenchLab(keyPoolSize: number): Promise<BenchLab> {
  searchableBenchDir();
  const lab = await prepareLab(path.join(BENCH_DIR, "lab"));
  const generated = await new KeyPool(lab.pki.keyPool).ensure(keyPoolSize, (done, total) => status(`key pool: ${done}/${total} keys generated`));
  if (generated > 0) say(`key pool: ${generated} device keys generated (once; kept in ${lab.pki.keyPool})`);
  return { lab, keyPoolSize };
}

export interface RunningTopology {
  readonly topology: StartedTopology;
  /** The UMS's IMI API, logged in. */
  readonly imi: ImiClient;
  /** The topology's processes by component (ums, alb, icg, nginx), for memory and CPU readings. */
  readonly roots: Roots;
}

/** Starts a topology on the loopback runtime with quiet components (no log line per request), and logs in to its IMI API. */
export async function runTopology(bench: BenchLab, name: TopologyName, options: TopologyOptions = {}): Promise<RunningTopology> {
  const started = await startTopology(name, new LoopbackRuntime(), bench.lab, { instance: "bench", quiet: true, ...options }).catch((e: unknown) => {
    // A topology this machine cannot run (PostgreSQL missing for HA) is the user's to fix, not a crash.
    throw e instanceof TopologySkipped ? new UserError(`${name} cannot run here: ${e.message}`) : e;
  });
  const forget = onInterrupt(() => started.stop());
  const topology: StartedTopology = { ...started, stop: () => (forget(), started.stop()) };
  try {
    const imi = new ImiClient({ baseUrl: topology.admin.baseUrl, caFile: topology.admin.caFile, serverName: topology.admin.serverName, credentials: topology.admin.credentials });
    await imi.login();
    const roots = Object.entries(topology.components).flatMap(([n, c]) => (c.pid ? [{ name: n, pid: c.pid }] : []));
    if (topology.nginxPid) roots.push({ name: "nginx", pid: topology.nginxPid });
    return { topology, imi, roots };
  } catch (e) {
    await topology.stop();
    throw e;
  }
}

/**
 * The bench directory itself stays searchable: the lab's PostgreSQL (HA topologies) runs as its own
 * user and must reach its data directory under it. A work directory made first with mode 0700 used
 * to make every parent 0700 too (mkdir -p applies the mode to each directory it creates).
 */
function searchableBenchDir(): void {
  fs.mkdirSync(BENCH_DIR, { recursive: true, mode: 0o755 });
  fs.chmodSync(BENCH_DIR, 0o755);
}

/** A fresh scratch directory for one bench (enrollment keys files of the fleet processes); remove it with removeWorkDir. */
export function workDir(name: string): string {
  searchableBenchDir();
  const dir = path.join(BENCH_DIR, "work", `${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
}

export function removeWorkDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
