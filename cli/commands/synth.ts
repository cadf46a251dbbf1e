import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { formatNotice, loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { EXAMPLE_CONFIG } from "../../core/project-root";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";
import { planStack, renderPlans } from "../../simulator/plan";

export function registerSynth(program: Command): void {
  program
    .command("synth")
    .description("synthesize the configured stacks into <out>/stacks/<stack>/cdk.tf.json, then show what each will deploy (certificates, listeners, allow-list, application.yml, warnings)")
    .option("--config <file>", "ums-edge YAML config (default: the example config, all five stacks)")
    .option("--out <dir>", "output directory", "cdktf.out")
    .option("--json", "print the plan view as one JSON document (for tools) instead of tables")
    .action(
      runAction(async (opts: { config?: string; out: string; json?: boolean }) => {
        const config = await loadConfig(opts.config ?? path.relative(process.cwd(), EXAMPLE_CONFIG), { labPki: labPkiCertificates });
        for (const notice of config.notices) process.stderr.write(`${formatNotice(notice)}\n`);
        const result = synthesize(config, path.resolve(opts.out));
        const plans = Object.values(result.stacks).map((dir) => planStack(dir));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ outdir: result.outdir, stacks: plans }, null, 2)}\n`);
          return;
        }
        for (const [name, dir] of Object.entries(result.stacks)) {
          process.stdout.write(`${name.padEnd(20)} ${path.relative(process.cwd(), path.join(dir, "cdk.tf.json"))}\n`);
        }
        process.stdout.write(`\n${renderPlans(plans)}`);
      }),
    );
}
