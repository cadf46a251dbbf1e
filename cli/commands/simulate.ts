import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { simulate } from "../../simulator/scenarios/simulate";
import { TOPOLOGIES, TopologyName } from "../../simulator/runtime/topologies/definitions";
import { renderOutcomeTable } from "../../simulator/report/outcome-table";
import { UserError } from "../../core/errors";
import type { RuntimeChoice } from "../../simulator/runtime/runtime";

function topologiesOf(value: string): TopologyName[] {
  if (value === "all") return [...TOPOLOGIES];
  const names = value.split(",").map((v) => v.trim());
  for (const n of names) {
    if (!(TOPOLOGIES as readonly string[]).includes(n)) throw new UserError(`--topology: unknown topology '${n}'\n  fix: use one of ${TOPOLOGIES.join(", ")}, or all`);
  }
  return names as TopologyName[];
}

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("run every scenario of the expected-outcomes table against the topologies; print the outcome table, write report.json and report.html")
    .option("--topology <name>", `a topology, several comma-separated, or all (${TOPOLOGIES.join(", ")})`, "all")
    .option("--devices <n>", "devices per topology", "10")
    .option("--report <dir>", "where report.json and report.html are written", "reports")
    .option("--lab <dir>", "lab directory (PKI, synthesized stacks, component logs)", ".lab/simulate")
    .option("--runtime <name>", "auto (network namespaces when root on Linux, else loopback), loopback or netns", "auto")
    .action(
      runAction(async (opts: { topology: string; devices: string; report: string; lab: string; runtime: string }) => {
        const topologies = topologiesOf(opts.topology);
        const devices = Number(opts.devices);
        if (!Number.isInteger(devices) || devices < 1 || devices > 2000) throw new UserError(`--devices: '${opts.devices}' is not an integer from 1 to 2000`);
        if (!["auto", "loopback", "netns"].includes(opts.runtime)) throw new UserError(`--runtime: unknown runtime '${opts.runtime}'\n  fix: use auto, loopback or netns`);
        const { report, files } = await simulate({ topologies, devices, reportDir: path.resolve(opts.report), labDir: path.resolve(opts.lab), runtime: opts.runtime as RuntimeChoice });
        process.stdout.write(renderOutcomeTable(report));
        process.stdout.write(`report: ${path.relative(process.cwd(), files.html)} and ${path.relative(process.cwd(), files.json)}\n`);
        return report.summary.fail > 0 ? 1 : 0;
      }),
    );
}
