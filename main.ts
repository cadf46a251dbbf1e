/**
 * The CDKTF app entry (cdktf.json runs the compiled dist/main.js): `cdktf synth|deploy` build the
 * stacks of the config named by UMS_EDGE_CONFIG, or of the example config.
 */
import { App } from "cdktf";
import { loadConfig } from "./stacks/config/load-config";
import { addStacks } from "./stacks/app";
import { EXAMPLE_CONFIG } from "./stacks/project-root";
import { isUserError } from "./simulator/protocol/user-error";

async function main(): Promise<void> {
  const config = await loadConfig(process.env.UMS_EDGE_CONFIG ?? EXAMPLE_CONFIG);
  const app = new App();
  addStacks(app, config);
  app.synth();
}

main().catch((e) => {
  process.stderr.write(`${isUserError(e) ? e.message : (e as Error).stack}\n`);
  process.exit(isUserError(e) ? e.exitCode : 1);
});
