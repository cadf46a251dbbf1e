import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { simulate } from "../../simulator/scenarios/simulate";
import { HA_TOPOLOGIES, TOPOLOGIES, TopologyName } from "../../simulator/runtime/topologies/definitions";
import { renderOutcomeTable } from "../../simulator/report/outcome-table";
import { UserError } from "../../core/errors";
import type { RuntimeChoice } from "../../simulator/runtime/runtime";
import { topologiesFor, RUNTIME_CHOICES, runtimeChoice } from "../topology-choice";

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("run every scenario of the expected-outcomes table against the topologies; print the outcome table, write report.json and report.html")
    .option("--topology <name>", `a topology, several comma-separated, all (${TOPOLOGIES.join(", ")}) or ha (${HA_TOPOLOGIES.join(", ")}: UMS HA clusters on PostgreSQL), e.g. all,ha; with --config, all means the topologies of your stacks`, "all")
    .option("--config <file>", "your ums-edge config: the scenarios run through the stacks synthesized from it (inputs that cannot be given, like the UMS device CA's key, are substituted and named in the report)")
    .option("--devices <n>", "devices per topology", "10")
    .option("--report <dir>", "where report.json and report.html are written", "reports")
    .option("--lab <dir>", "lab directory (PKI, synthesized stacks, component logs)", ".lab/simulate")
    .option("--runtime <name>", `${RUNTIME_CHOICES.join(", ")}: auto is network namespaces when root on Linux with iproute2 and nftables, else loopback; containers (a Docker engine) only when asked for`, "auto")
    .action(
      runAction(async (opts: { topology: string; config?: string; devices: string; report: string; lab: string; runtime: string }) => {
        const devices = Number(opts.devices);
        if (!Number.isInteger(devices) || devices < 1 || devices > 2000) throw new UserError(`--devices: '${opts.devices}' is not an integer from 1 to 2000`);
        const runtime: RuntimeChoice = runtimeChoice(opts.runtime);
        // Everything is checked before anything starts: the config, then the topologies it offers.
        const topologies: TopologyName[] = await topologiesFor(opts.topology, opts.config);
        const { report, files } = await simulate({ topologies, devices, reportDir: path.resolve(opts.report), labDir: path.resolve(opts.lab), runtime, configFile: opts.config });
        process.stdout.write(renderOutcomeTable(report));
        process.stdout.write(`report: ${path.relative(process.cwd(), files.html)} and ${path.relative(process.cwd(), files.json)}\n`);
        return report.summary.fail > 0 ? 1 : 0;
      }),
    );
}
