import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { untilSignal } from "../signals";
import { prepareLab } from "../../simulator/runtime/lab";
import { chooseRuntime, RuntimeChoice } from "../../simulator/runtime/runtime";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import { TOPOLOGIES, TopologyName } from "../../simulator/runtime/topologies/definitions";
import { UserError } from "../../core/errors";

export function registerLab(program: Command): void {
  const lab = program.command("lab").description("a topology left running for real clients (curl, openssl, a browser, a real device)");
  lab
    .command("up")
    .description("start one topology; print its device-facing endpoints, admin API and PKI directory as one JSON line; stop on SIGINT/SIGTERM")
    .requiredOption("--topology <name>", TOPOLOGIES.join(", "))
    .option("--dir <dir>", "lab directory (PKI, synthesized stacks, component logs)", ".lab/lab")
    .option("--runtime <name>", "loopback, netns or auto", "loopback")
    .action(
      runAction(async (opts: { topology: string; dir: string; runtime: string }) => {
        if (!(TOPOLOGIES as readonly string[]).includes(opts.topology)) {
          throw new UserError(`--topology: unknown topology '${opts.topology}'\n  fix: use one of ${TOPOLOGIES.join(", ")}`);
        }
        if (!["auto", "loopback", "netns"].includes(opts.runtime)) throw new UserError(`--runtime: unknown runtime '${opts.runtime}'\n  fix: use loopback, netns or auto`);
        const stopping = untilSignal();
        const l = await prepareLab(path.resolve(opts.dir));
        const runtime = await chooseRuntime(opts.runtime as RuntimeChoice, (m) => process.stderr.write(`${m}\n`));
        try {
          const topology = await startTopology(opts.topology as TopologyName, runtime, l);
          try {
            process.stdout.write(
              `${JSON.stringify({
                topology: topology.name,
                runtime: runtime.name,
                devices: topology.devices,
                admin: { url: topology.admin.baseUrl, user: "admin", caFile: topology.admin.caFile },
                pkiDir: l.pki.dir,
                goodDevice: l.pki.devices.good,
                stacks: l.synthDir,
                albLogs: topology.albLogsDir,
                nginxLogs: topology.nginxLogs,
              })}\n`,
            );
            process.stderr.write(`lab up: ${topology.name} is running; stop with Ctrl-C\n`);
            await stopping;
          } finally {
            await topology.stop();
          }
        } finally {
          await runtime.stop();
        }
      }),
    );
}
