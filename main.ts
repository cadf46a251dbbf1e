/**
 * The CDKTF app entry: cdktf.json runs the compiled dist/main.js. Set UMS_EDGE_CONFIG to your
 * config file; without it the example config (all five stacks) is used.
 */
import { runCdktfApp } from "./stacks/cdktf-app";
import { isUserError } from "./simulator/protocol/user-error";

runCdktfApp().catch((e) => {
  process.stderr.write(`${isUserError(e) ? e.message : (e as Error).stack}\n`);
  process.exit(isUserError(e) ? e.exitCode : 1);
});
