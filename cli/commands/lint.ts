import type { Command } from "commander";
import { runAction } from "../run-action";
import { UserError } from "../../core/errors";
import { lintAppConfig } from "../../simulator/lint/lint-app-config";
import { lintTrustStore } from "../../simulator/lint/lint-trust-store";
import { failed } from "../../simulator/doctor/doctor";
import { textTable } from "../../simulator/report/text-table";

/** The same range as the config's devices.heartbeatSeconds (stacks/config/schema.ts). */
function parseHeartbeatSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 86400) throw new UserError(`--heartbeat-seconds: '${text}' is not a whole number of seconds from 1 to 86400\n  fix: give the interval your devices heartbeat at, e.g. --heartbeat-seconds 30`);
  return n;
}

export function registerLint(program: Command): void {
  program
    .command("lint")
    .description("check a UMS (or ICG) application.yml against a synthesized stack, explaining each finding")
    .requiredOption("--stack <dir>", "a stack directory written by 'ums-edge synth', e.g. cdktf.out/stacks/ums-alb-verify")
    .requiredOption("--app-config <file>", "the UMS application.yml (<UMS>\\rmguiserver\\conf\\appconfig\\application.yml)")
    .option("--device-cas <file>", "the device CA chain the UMS exports now (Export Client Certificate Chain): every CA in it must be in a verify stack's trust store, or its devices are locked out (docs/rotation.md)")
    .option("--heartbeat-seconds <n>", "how often your devices send a heartbeat (IGEL does not publish OS 12's): warn when the stack's idle timeout is not above it")
    .action(
      runAction(async (opts: { stack: string; appConfig: string; deviceCas?: string; heartbeatSeconds?: string }) => {
        const heartbeatSeconds = opts.heartbeatSeconds === undefined ? undefined : parseHeartbeatSeconds(opts.heartbeatSeconds);
        const findings = [...lintAppConfig(opts.stack, opts.appConfig, { heartbeatSeconds }), ...lintTrustStore(opts.stack, opts.deviceCas)];
        process.stdout.write(textTable(["check", "status", "detail"], findings.map((f) => [f.check, f.status.toUpperCase(), f.detail])));
        return failed(findings) ? 1 : 0;
      }),
    );
}
