import * as fs from "node:fs";
import * as path from "node:path";
import { prepareLab } from "../runtime/lab";
import { prepareLabFromConfig } from "../runtime/user-lab";
import { chooseRuntime, RuntimeChoice } from "../runtime/runtime";
import type { TopologyName } from "../runtime/topologies/definitions";
import { SCENARIOS } from "./expected-outcomes";
import { ASSUMPTIONS } from "./assumptions";
import { runTopology } from "./run-topology";
import type { CellResult, SimulationReport, TopologyResult } from "../report/model";
import { summaryOf } from "../report/model";
import { renderHtmlReport } from "../report/html-report";
import { Progress } from "../report/progress";
import { UserError } from "../../core/errors";
import { projectRoot } from "../../core/project-root";

export interface SimulateOptions {
  readonly topologies: readonly TopologyName[];
  readonly devices: number;
  /** Where report.json and report.html go. */
  readonly reportDir: string;
  /** The lab directory (PKI, stacks, run logs). */
  readonly labDir: string;
  readonly runtime: RuntimeChoice;
  /** An administrator's ums-edge config: the stacks are synthesized from it (inputs that cannot be given are substituted and named). @default the lab's own config */
  readonly configFile?: string;
  /** Progress and notes. @default process.stderr */
  readonly out?: NodeJS.WriteStream;
}

export interface SimulateResult {
  readonly report: SimulationReport;
  readonly files: { readonly json: string; readonly html: string };
}

function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(projectRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/**
 * The report directory must be writable before minutes of simulation are spent: created one level
 * at a time (Node's recursive mkdir never returns on some paths, e.g. under /proc), then written to.
 */
function prepareReportDir(dir: string): void {
  try {
    const missing: string[] = [];
    for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) fs.mkdirSync(d);
    const probe = path.join(dir, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    throw new UserError(`--report ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code})\n  fix: give a directory you can write to`);
  }
}

/** `ums-edge simulate`: every scenario of the expected-outcomes table against every chosen topology. */
export async function simulate(o: SimulateOptions): Promise<SimulateResult> {
  prepareReportDir(o.reportDir);
  const out = o.out ?? process.stderr;
  const progress = new Progress(o.topologies.length * SCENARIOS.length, out);
  // Containers: a missing Docker engine (or image) is said before seconds go into the lab.
  const early = o.runtime === "containers" ? await chooseRuntime(o.runtime, (m) => progress.note(m)) : undefined;
  progress.note(`lab: ${o.labDir} (PKI, synthesized stacks, logs)`);
  const lab = await (o.configFile ? prepareLabFromConfig(o.labDir, o.configFile) : prepareLab(o.labDir)).catch(async (e: unknown) => {
    await early?.stop();
    throw e;
  });
  for (const i of lab.user?.inputs ?? []) progress.note(`input ${i.origin === "yours" ? "(yours)      " : "(substituted)"} ${i.input}: ${i.note}`);
  const runtime = early ?? (await chooseRuntime(o.runtime, (m) => progress.note(m)));
  progress.note(`runtime: ${runtime.describe()}`);
  const runs = new Map<TopologyName, Awaited<ReturnType<typeof runTopology>>>();
  const runOne = async (name: TopologyName) => {
    progress.note(`topology ${name}: starting`);
    runs.set(
      name,
      await runTopology(name, runtime, lab, {
        devices: o.devices,
        onStart: (s) => progress.start(`${name}: ${s.title}`),
        onCell: (c) => progress.step(`${name}: ${SCENARIOS.find((s) => s.id === c.scenario)?.title}`, c.verdict === "pass" ? `ok (${c.actual})` : c.verdict === "n/a" ? "n/a" : `${c.verdict.toUpperCase()}: ${c.actual}`),
      }),
    );
  };
  try {
    // One topology after the other, unless the runtime keeps topologies apart (containers: each its own containers).
    const queue = [...o.topologies];
    const worker = async () => {
      for (let name = queue.shift(); name; name = queue.shift()) await runOne(name);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(runtime.topologiesAtOnce ?? 1, queue.length)) }, worker));
  } finally {
    progress.finish();
    await runtime.stop();
  }
  // In the order asked for, whichever finished first.
  const done = o.topologies.filter((n) => runs.has(n)).map((n) => runs.get(n)!);
  const cells: CellResult[] = done.flatMap((r) => r.cells);
  const topologies: TopologyResult[] = done.map((r) => r.result);
  const report: SimulationReport = {
    tool: "ums-edge",
    version: version(),
    generatedAt: new Date().toISOString(),
    runtime: runtime.describe(),
    notProved: runtime.notProved,
    inputs: lab.user,
    devicesPerTopology: o.devices,
    topologies,
    scenarios: SCENARIOS.map((s) => ({ id: s.id, title: s.title })),
    cells,
    assumptions: ASSUMPTIONS,
    summary: summaryOf(cells),
  };
  const files = { json: path.join(o.reportDir, "report.json"), html: path.join(o.reportDir, "report.html") };
  fs.writeFileSync(files.json, JSON.stringify(report, null, 2) + "\n");
  fs.writeFileSync(files.html, renderHtmlReport(report));
  return { report, files };
}
