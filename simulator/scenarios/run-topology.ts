import type { Runtime } from "../runtime/runtime";
import type { Lab } from "../runtime/lab";
import { startTopology } from "../runtime/topologies/start-topology";
import { TopologySkipped, StartedTopology } from "../runtime/topologies/topology";
import type { TopologyName } from "../runtime/topologies/definitions";
import type { CellResult, TopologyResult } from "../report/model";
import { percentiles } from "../common/stats";
import { expectedOutcome, SCENARIOS, ScenarioSpec } from "./expected-outcomes";
import { FLOWS } from "./flows";
import { describeOutcome, meets, Outcome } from "./outcome";
import { stackFactsOf } from "./stack-facts";
import { topologyDefinition } from "../runtime/topologies/definitions";
import type { Observation, ScenarioContext } from "./context";

/** A flow that has not decided by then has failed: one broken topology must not stall the whole run. */
const FLOW_LIMIT_MS = 90_000;

export interface RunTopologyOptions {
  readonly devices: number;
  /** The expected-outcomes table to check. @default SCENARIOS */
  readonly scenarios?: readonly ScenarioSpec[];
  /** Called before and after each scenario (for the progress display). */
  readonly onStart?: (scenario: ScenarioSpec) => void;
  readonly onCell?: (cell: CellResult) => void;
}

export interface TopologyRun {
  readonly cells: CellResult[];
  readonly result: TopologyResult;
}

function cellOf(spec: ScenarioSpec, topology: TopologyName, expected: Outcome, observed: Observation): CellResult {
  const base = { scenario: spec.id, topology, expected: describeOutcome(expected), actual: describeOutcome(observed.outcome), evidence: observed.evidence };
  if (observed.skipped) return { ...base, actual: "not checked", verdict: "skipped", note: observed.skipped };
  return { ...base, verdict: meets(observed.outcome, expected) ? "pass" : "fail", note: observed.note };
}

function failedCell(spec: ScenarioSpec, topology: TopologyName, expected: Outcome, error: unknown): CellResult {
  const message = (error as Error)?.message ?? String(error);
  return { scenario: spec.id, topology, expected: describeOutcome(expected), actual: `error: ${message.split("\n")[0]}`, verdict: "fail", evidence: { detail: message.slice(0, 2000) } };
}

/** Runs every scenario of the table against one topology: start it, run the flows in order, stop it. */
export async function runTopology(name: TopologyName, runtime: Runtime, lab: Lab, options: RunTopologyOptions): Promise<TopologyRun> {
  const cells: CellResult[] = [];
  const record = (cell: CellResult) => {
    cells.push(cell);
    options.onCell?.(cell);
  };
  const table = options.scenarios ?? SCENARIOS;
  // The stack's own settings (an administrator's, with --config) decide the rows that depend on them.
  const definition = topologyDefinition(name);
  const facts = stackFactsOf(lab, definition);
  // With --config, a topology whose stack comes from the administrator's config is "yours".
  const source = lab.user && definition.stack && lab.hasStack(definition.stack) ? "your stack" : "lab";
  const expected = new Map(table.map((s) => [s.id, expectedOutcome(s, name, facts)]));
  const applicable = table.filter((s) => expected.get(s.id)!.kind !== "n/a");
  for (const s of table.filter((s) => expected.get(s.id)!.kind === "n/a")) {
    record({ scenario: s.id, topology: name, expected: "n/a", actual: "n/a", verdict: "n/a", evidence: {} });
  }

  let topology: StartedTopology;
  try {
    topology = await startTopology(name, runtime, lab);
  } catch (e) {
    // It cannot run here (PostgreSQL missing, a runtime it does not support): skipped with the reason, the other topologies run.
    if (e instanceof TopologySkipped) for (const s of applicable) record({ scenario: s.id, topology: name, expected: describeOutcome(expected.get(s.id)!), actual: "not checked", verdict: "skipped", note: e.message, evidence: {} });
    else for (const s of applicable) record(failedCell(s, name, expected.get(s.id)!, new Error(`the topology did not start: ${(e as Error).message}`)));
    const empty = percentiles([]);
    return { cells, result: { name, source, startMs: 0, devices: 0, onboarding: empty, commandRoundTrip: empty } };
  }

  let ctx: ScenarioContext | undefined;
  const run = async (spec: ScenarioSpec) => {
    options.onStart?.(spec);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no outcome within ${FLOW_LIMIT_MS / 1000} s`)), FLOW_LIMIT_MS);
    });
    try {
      record(cellOf(spec, name, expected.get(spec.id)!, await Promise.race([FLOWS[spec.id].run(ctx!), limit])));
    } catch (e) {
      record(failedCell(spec, name, expected.get(spec.id)!, e));
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    ctx = { topology, lab, imi: await runtime.adminClient(topology.admin, topology.admin.side), deviceCount: options.devices, onboardingMs: [], commandRoundTrips: [] };
    for (const spec of applicable.filter((s) => !FLOWS[s.id].ownTopology)) await run(spec);
  } finally {
    await ctx?.fleet?.stop().catch(() => undefined);
    await topology.stop();
  }
  for (const spec of applicable.filter((s) => FLOWS[s.id].ownTopology)) await run(spec);

  return {
    cells,
    result: {
      name,
      source,
      startMs: topology.startMs,
      devices: options.devices,
      onboarding: percentiles(ctx?.onboardingMs ?? []),
      commandRoundTrip: percentiles(ctx?.commandRoundTrips ?? []),
    },
  };
}
