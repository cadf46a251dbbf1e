import { App } from "./aws";
import { loadConfig, LoadConfigOptions, Notice } from "./config/load-config";
import { synthesizeApp, SynthResult } from "./app";
import { EXAMPLE_CONFIG } from "../core/project-root";

/**
 * What `cdktf synth|deploy` runs (through main.ts): the stacks of the config named by
 * UMS_EDGE_CONFIG, or of the example config, into the directory the cdktf CLI chose (CDKTF_OUTDIR).
 */
export async function runCdktfApp(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Promise<SynthResult & { notices: readonly Notice[] }> {
  const config = await loadConfig(env.UMS_EDGE_CONFIG ?? EXAMPLE_CONFIG, options);
  return { ...synthesizeApp(new App(env.CDKTF_OUTDIR ? { outdir: env.CDKTF_OUTDIR } : {}), config), notices: config.notices };
}
