import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { untilSignal } from "../signals";
import { AlbEmulator, formatEvent, parseHostPort, validateAlbEmulatorOptions } from "../../simulator/alb";
import type { AlbEmulatorOptions } from "../../simulator/alb";
import { readStack } from "../../simulator/terraform/read-stack";
import { UserError } from "../../core/errors";
import { s3TrustStoreLoaderFromFlags } from "../../simulator/alb/s3-trust-store";
import { commandFromSpec } from "../../simulator/common/flags";
import { ALB_FLAGS, AlbProcessOptions } from "../../simulator/alb/process-options";

/** `--port 8443=18443` → { 8443: 18443 } */
export function parsePortMappings(values: readonly string[]): Record<number, number> {
  const ports: Record<number, number> = {};
  for (const v of values) {
    const m = /^(\d{1,5})=(\d{1,5})$/.exec(v.trim());
    if (!m) throw new UserError(`--port '${v}': expected LISTENER=LOCAL\n  fix: e.g. --port 8443=18443 (the stack's listener port = the local port; 0 picks a free one)`);
    ports[Number(m[1])] = Number(m[2]);
  }
  return ports;
}

export function registerAlb(program: Command): void {
  program.addCommand(
    commandFromSpec(
      "alb",
      "run the ALB emulator of one synthesized stack in front of an HTTPS target (a mock UMS or a real one)",
      ALB_FLAGS,
      async (flags: AlbProcessOptions) => {
        for (const t of flags.targets) parseHostPort(t, "--target");
        const options: AlbEmulatorOptions = {
          stackDir: path.resolve(flags.stack),
          target: flags.targets,
          ports: parsePortMappings(flags.ports ?? []),
          host: flags.host ?? "127.0.0.1",
          logsDir: flags.logs,
          workers: flags.workers ?? 1,
          healthCheckScale: flags.healthCheckScale ?? 1,
          idleTimeoutScale: flags.idleTimeoutScale,
          accountId: flags.accountId,
          trustStoreLoader: s3TrustStoreLoaderFromFlags({ trustStoreS3: flags.trustStoreS3, revocationS3: flags.revocationS3 ? [...flags.revocationS3] : undefined, s3Endpoint: flags.s3Endpoint }),
          onEvent: (e) => process.stderr.write(`${formatEvent(e)}\n`),
        };
        validateAlbEmulatorOptions(options, readStack(flags.stack), { target: "--target", ports: "--port" });
        const stopping = untilSignal();
        const alb = await new AlbEmulator(options).start();
        process.stdout.write(`${JSON.stringify(alb.readyInfo())}\n`);
        await stopping;
        await alb.stop();
      },
      (run) => runAction(run),
    ).exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)),
  );
}
