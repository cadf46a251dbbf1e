import * as fs from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import type { EdgeConfig } from "./config/load-config";
import { EdgeStack } from "./edge-stack";
import { DirectStack } from "./direct-stack";

/** Adds one stack per configured variant to `app`. */
export function addStacks(app: App, config: EdgeConfig): void {
  for (const spec of config.stacks) {
    if (spec.mtlsMode) new EdgeStack(app, config, spec);
    else new DirectStack(app, config, spec);
  }
}

export interface SynthResult {
  readonly outdir: string;
  /** Stack name → directory holding its cdk.tf.json. */
  readonly stacks: Readonly<Record<string, string>>;
}

/** Synthesizes every configured stack into `outdir/stacks/<name>/cdk.tf.json`. */
export function synthesize(config: EdgeConfig, outdir: string): SynthResult {
  const app = new App({ outdir, skipValidation: false });
  addStacks(app, config);
  app.synth();
  const stacks = Object.fromEntries(config.stacks.map((s) => [s.variant, path.join(outdir, "stacks", s.variant)]));
  for (const dir of Object.values(stacks)) protectPrivateKeyAssets(dir);
  return { outdir, stacks };
}

/** cdktf copies assets with default permissions; private keys among them go back to 0600. */
function protectPrivateKeyAssets(stackDir: string): void {
  const assets = path.join(stackDir, "assets");
  if (!fs.existsSync(assets)) return;
  for (const entry of fs.readdirSync(assets, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    if (fs.readFileSync(file, "utf8").includes("PRIVATE KEY-----")) fs.chmodSync(file, 0o600);
  }
}
