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

/** Adds the configured stacks to `app`, synthesizes them and locks down private-key assets. */
export function synthesizeApp(app: App, config: EdgeConfig): SynthResult {
  addStacks(app, config);
  app.synth();
  const stacks = Object.fromEntries(config.stacks.map((s) => [s.variant, path.join(app.outdir, "stacks", s.variant)]));
  for (const dir of Object.values(stacks)) protectPrivateKeyAssets(dir);
  return { outdir: app.outdir, stacks };
}

/** Synthesizes every configured stack into `outdir/stacks/<name>/cdk.tf.json`. */
export function synthesize(config: EdgeConfig, outdir: string): SynthResult {
  return synthesizeApp(new App({ outdir }), config);
}

/** Asset copies keep the source file's mode; a private key exported 0644 still becomes 0600 here. */
function protectPrivateKeyAssets(stackDir: string): void {
  const assets = path.join(stackDir, "assets");
  if (!fs.existsSync(assets)) return;
  for (const entry of fs.readdirSync(assets, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (fs.readFileSync(file, "utf8").includes("PRIVATE KEY-----")) fs.chmodSync(file, 0o600);
  }
}
