import { prepareLab } from "../../simulator/runtime/lab";
import type { Runtime } from "../../simulator/runtime/runtime";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import { TopologyName } from "../../simulator/runtime/topologies/definitions";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import { Category, CategoryResult, CategoryRun, ProbeContext, tally } from "./probe-model";
import { headerSpoofing, malformedHttp, pathTricks, slowClients, smugglingShapes } from "./http-categories";
import { adminApiAbuse, onboardingAbuse, webSocketAbuse } from "./session-categories";

/**
 * The probe: every category of bad input against every topology, started from the lab's own
 * stacks on a runtime of the project (loopback processes, or its own network namespaces). Bounded:
 * a fixed set of inputs per category, a few at a time. Admin API abuse runs last (it locks the
 * lab's admin account). A component that is not running after a category counts as crashed.
 */

const RUNS: ReadonlyArray<readonly [Category, CategoryRun]> = [
  ["malformed HTTP", malformedHttp],
  ["smuggling shapes", smugglingShapes],
  ["slow clients", slowClients],
  ["path tricks", pathTricks],
  ["header spoofing", headerSpoofing],
  ["WebSocket abuse", webSocketAbuse],
  ["onboarding abuse", onboardingAbuse],
  ["admin API abuse", adminApiAbuse],
];

export interface ProbeOptions {
  readonly topologies: readonly TopologyName[];
  readonly runtime: Runtime;
  /** The lab directory (PKI, stacks, logs). */
  readonly labDir: string;
  /** Fewer inputs per category. @default false */
  readonly quick?: boolean;
  /** Called after each category (progress). */
  readonly onResult?: (r: CategoryResult) => void;
}

function crashedComponents(t: StartedTopology): string[] {
  return Object.values(t.components)
    .filter((c) => !c.running)
    .map((c) => c.name);
}

function contextOf(topology: StartedTopology, lab: ProbeContext["lab"], imi: ProbeContext["imi"], quick: boolean): ProbeContext {
  const d = topology.devices;
  const base = { serverName: d.serverName, caFile: d.trustedCaFile };
  return {
    topology,
    lab,
    imi,
    quick,
    allowList: topology.definition.front !== "none" || topology.definition.backend === "icg",
    withCert: { ...base, url: d.clusterUrl, identity: { certFile: lab.pki.devices.good.chain, keyFile: lab.pki.devices.good.key } },
    noCert: { ...base, url: d.enrollmentUrl },
  };
}

export async function runProbe(o: ProbeOptions): Promise<CategoryResult[]> {
  const lab = await prepareLab(o.labDir);
  const results: CategoryResult[] = [];
  for (const name of o.topologies) {
    const topology = await startTopology(name, o.runtime, lab, { quiet: true });
    try {
      const imi = await o.runtime.adminClient(topology.admin, topology.admin.side);
      const ctx = contextOf(topology, lab, imi, o.quick ?? false);
      for (const [category, run] of RUNS) {
        const t0 = Date.now();
        let attempts;
        try {
          attempts = await run(ctx);
        } catch (e) {
          attempts = [{ input: `the category failed to run: ${(e as Error).message}`, letThrough: false, status: 599 }];
        }
        const result = tally(category, name, attempts, crashedComponents(topology), Date.now() - t0);
        results.push(result);
        o.onResult?.(result);
        if (result.crashed.length > 0) break; // nothing more to learn from a topology that lost a process
      }
    } finally {
      await topology.stop();
    }
  }
  return results;
}
