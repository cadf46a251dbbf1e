import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { formatNotice, loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { EXAMPLE_CONFIG } from "../../core/project-root";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";

export function registerSynth(program: Command): void {
  program
    .command("synth")
    .description("synthesize the configured stacks into <out>/stacks/<stack>/cdk.tf.json")
    .option("--config <file>", "ums-edge YAML config (default: the example config, all five stacks)")
    .option("--out <dir>", "output directory", "cdktf.out")
    .action(
      runAction(async (opts: { config?: string; out: string }) => {
        const config = await loadConfig(opts.config ?? path.relative(process.cwd(), EXAMPLE_CONFIG), { labPki: labPkiCertificates });
        for (const notice of config.notices) process.stderr.write(`${formatNotice(notice)}\n`);
        const result = synthesize(config, path.resolve(opts.out));
        for (const [name, dir] of Object.entries(result.stacks)) {
          process.stdout.write(`${name.padEnd(20)} ${path.relative(process.cwd(), path.join(dir, "cdk.tf.json"))}\n`);
        }
      }),
    );
}
