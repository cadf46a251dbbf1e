import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { holdUntil, untilSignal } from "../signals";
import { prepareLab } from "../../simulator/runtime/lab";
import { prepareLabFromConfig } from "../../simulator/runtime/user-lab";
import { chooseRuntime } from "../../simulator/runtime/runtime";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import { ALL_TOPOLOGIES } from "../../simulator/runtime/topologies/definitions";
import { UserError } from "../../core/errors";
import { runtimeChoice, topologiesFor, RUNTIME_CHOICES } from "../topology-choice";

export function registerLab(program: Command): void {
  const lab = program.command("lab").description("a topology left running for real clients (curl, openssl, a browser, a real device)");
  lab
    .command("up")
    .description("start one topology; print its device-facing endpoints, admin API and PKI directory as one JSON line; stop on SIGINT/SIGTERM")
    .requiredOption("--topology <name>", ALL_TOPOLOGIES.join(", "))
    .option("--config <file>", "your ums-edge config: the topology runs through the stack synthesized from it (substituted inputs are listed on stderr)")
    .option("--dir <dir>", "lab directory (PKI, synthesized stacks, component logs)", ".lab/lab")
    .option("--runtime <name>", RUNTIME_CHOICES.join(", "), "loopback")
    .action(
      runAction(async (opts: { topology: string; config?: string; dir: string; runtime: string }) => {
        if (opts.topology === "all" || opts.topology === "ha" || opts.topology.includes(",")) throw new UserError(`--topology: '${opts.topology}': lab up starts one topology\n  fix: name one of ${ALL_TOPOLOGIES.join(", ")}`);
        const [name] = await topologiesFor(opts.topology, opts.config);
        const choice = runtimeChoice(opts.runtime);
        const stopping = untilSignal();
        const note = (m: string) => process.stderr.write(`${m}\n`);
        // Containers: a missing Docker engine is said before the lab is made.
        const early = choice === "containers" ? await chooseRuntime(choice, note) : undefined;
        const l = await (opts.config ? prepareLabFromConfig(path.resolve(opts.dir), opts.config) : prepareLab(path.resolve(opts.dir))).catch(async (e: unknown) => {
          await early?.stop();
          throw e;
        });
        for (const i of l.user?.inputs ?? []) process.stderr.write(`input (${i.origin}) ${i.input}: ${i.note}\n`);
        const runtime = early ?? (await chooseRuntime(choice, note));
        try {
          const topology = await startTopology(name, runtime, l);
          try {
            process.stdout.write(
              `${JSON.stringify({
                topology: topology.name,
                runtime: runtime.name,
                devices: topology.devices,
                // The lab's password is made up per lab: told here, once (also in <dir>/admin-password, 0600).
                admin: { url: topology.admin.baseUrl, user: topology.admin.credentials.username, password: topology.admin.credentials.password, caFile: topology.admin.caFile },
                pkiDir: l.pki.dir,
                goodDevice: l.pki.devices.good,
                stacks: l.synthDir,
                config: l.user?.configFile,
                albLogs: topology.albLogsDir,
                nginxLogs: topology.nginxLogs,
              })}\n`,
            );
            process.stderr.write(`lab up: ${topology.name} is running; stop with Ctrl-C\n`);
            await holdUntil(stopping);
          } finally {
            await topology.stop();
          }
        } finally {
          await runtime.stop();
        }
      }),
    );
}
