import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../core/errors";
import { textTable } from "../../simulator/report/text-table";
import { renderBenchHtml, Section } from "./bench-html";
import type { BenchContext, BenchOutcome } from "./context";
import { prepareBenchLab, BenchLab } from "./bench-topology";
import { failedTargets, TargetRow } from "./figures";
import { openFilesLimit } from "./process-tree";
import { defaultReportDir, writeBenchPage } from "./report-files";
import type { BenchPlan, SectionId } from "./plan";
import { CORES, loadAverage, say } from "./progress";
import { synthBench } from "./synth";
import { albBench } from "./alb";
import { fleetScaleBench } from "./fleet-scale-section";
import { sessionMemoryBench } from "./session-memory-section";
import { topologyLatencyBench } from "./topology-latency-section";
import { stormBench } from "./storm-section";

/**
 * Runs the benches a plan names, one after the other: each prints its figures and writes
 * reports/bench/<bench>.json; then the targets table, reports/bench/bench.html (for `npm run
 * bench`), and a UserError (exit code 1) naming every target missed or not measured.
 */

const BENCHES: Readonly<Record<SectionId, (ctx: BenchContext, plan: BenchPlan) => Promise<BenchOutcome>>> = {
  synth: (ctx, plan) => synthBench(ctx, plan.synth),
  alb: (ctx, plan) => albBench(ctx, plan.alb),
  fleet: (ctx, plan) => fleetScaleBench(ctx, plan.fleet),
  memory: (ctx, plan) => sessionMemoryBench(ctx, plan.memory),
  latency: (ctx, plan) => topologyLatencyBench(ctx, plan.latency),
  storm: (ctx, plan) => stormBench(ctx, plan.storm),
};

/** A bench that failed before it could report: a section saying so, and a target not measured. */
function failedBench(id: SectionId, e: unknown): BenchOutcome {
  const why = (e as Error).message ?? String(e);
  say(`${id}: failed: ${why}`);
  return { section: { id, title: id, notes: [`Not measured: ${why}`] }, targets: [{ name: `bench ${id}`, measured: "—", target: "its own targets", verdict: "not measured", note: why.split("\n")[0] }] };
}

export interface RunOptions {
  /** Also write bench.html (the whole bench; a sub-bench writes only its JSON). */
  readonly page: boolean;
  readonly reportDir?: string;
}

export async function runBench(plan: BenchPlan, o: RunOptions): Promise<void> {
  const reportDir = o.reportDir ?? defaultReportDir();
  const loadAtStart = loadAverage();
  say(`ums-edge bench${plan.quick ? " (quick: figures printed, only the orderings asserted)" : ""}: ${plan.sections.join(", ")}; ${CORES} cores, Node ${process.version}, open files ${openFilesLimit().soft}, load average ${loadAtStart}`);
  let lab: Promise<BenchLab> | undefined;
  const ctx: BenchContext = { quick: plan.quick, reportDir, lab: () => (lab ??= prepareBenchLab(plan.keyPoolSize)) };
  const sections: Section[] = [];
  const targets: TargetRow[] = [];
  const t0 = performance.now();
  const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
  for (const id of plan.sections) {
    say(`\n== ${id} (load average ${loadAverage()})`);
    const started = performance.now();
    const outcome = await BENCHES[id](ctx, plan).catch((e: unknown) => failedBench(id, e));
    say(`== ${id}: ${seconds(started)} s`);
    sections.push(outcome.section);
    targets.push(...outcome.targets);
  }
  process.stdout.write(`\ntargets\n${textTable(["target", "measured", "target", "verdict"], targets.map((t) => [t.name, t.measured, t.target, t.verdict]))}`);
  if (o.page) {
    const html = writeBenchPage(
      reportDir,
      renderBenchHtml({
        generatedAt: new Date().toISOString(),
        machine: `${CORES} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, open files ${openFilesLimit().soft}; load average at start ${loadAtStart}, at end ${loadAverage()} (a shared machine: other work runs meanwhile)`,
        quick: plan.quick,
        targets,
        sections,
      }),
    );
    process.stdout.write(`written: ${path.relative(process.cwd(), html)}\n`);
  }
  const failed = failedTargets(targets);
  if (failed.length > 0) {
    const lines = failed.map((t) => `  - ${t.name}: ${t.verdict} (${t.measured}; target ${t.target})${t.note ? `\n      ${t.note}` : ""}`);
    throw new UserError(`${failed.length} target(s) missed or not measured (after ${seconds(t0)} s):\n${lines.join("\n")}`, 1);
  }
  say(`\nbench: ${plan.quick ? "every ordering held (a quick run: the scale targets are shown, not asserted)" : "every target met"}; ${seconds(t0)} s`);
}
