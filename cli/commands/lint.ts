import type { Command } from "commander";
import { runAction } from "../run-action";
import { lintAppConfig } from "../../simulator/lint/lint-app-config";
import { lintTrustStore } from "../../simulator/lint/lint-trust-store";
import { failed } from "../../simulator/doctor/doctor";
import { textTable } from "../../simulator/report/text-table";

export function registerLint(program: Command): void {
  program
    .command("lint")
    .description("check a UMS (or ICG) application.yml against a synthesized stack, explaining each finding")
    .requiredOption("--stack <dir>", "a stack directory written by 'ums-edge synth', e.g. cdktf.out/stacks/ums-alb-verify")
    .requiredOption("--app-config <file>", "the UMS application.yml (<UMS>\\rmguiserver\\conf\\appconfig\\application.yml)")
    .option("--device-cas <file>", "the device CA chain the UMS exports now (Export Client Certificate Chain): every CA in it must be in a verify stack's trust store, or its devices are locked out (docs/rotation.md)")
    .action(
      runAction(async (opts: { stack: string; appConfig: string; deviceCas?: string }) => {
        const findings = [...lintAppConfig(opts.stack, opts.appConfig), ...lintTrustStore(opts.stack, opts.deviceCas)];
        process.stdout.write(textTable(["check", "status", "detail"], findings.map((f) => [f.check, f.status.toUpperCase(), f.detail])));
        return failed(findings) ? 1 : 0;
      }),
    );
}
