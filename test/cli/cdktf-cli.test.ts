import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import { baseConfig, tempDir } from "../helpers/config";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { projectRoot } from "../../core/project-root";

/**
 * `cdktf-cli` 0.21 is a devDependency, so the README's `npx cdktf synth` works as written: the cdktf
 * CLI runs the app of cdktf.json (dist/main.js) and writes the same files as `ums-edge synth`, byte
 * for byte. cdktf.json's app builds first; here the app is given as `node dist/main.js` (npm test has
 * built dist/), so the test never rewrites dist/ while other tests read it. No network is needed.
 */
const ROOT = projectRoot();

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, f);
    if (fs.statSync(full).isFile()) out.set(f, fs.readFileSync(full));
  }
  return out;
}

test("npx cdktf synth writes the same stacks, assets and manifest as ums-edge synth", async () => {
  // A PKI of its own: both runs must read the same certificates, whatever else regenerates the shared one.
  await testLabPki("cdktf-cli");
  const dir = tempDir("ums-edge-cdktf-cli-");
  const config = path.join(dir, "ums-edge.yaml");
  fs.writeFileSync(config, stringify(baseConfig({ certificates: { labPki: testPkiDir("cdktf-cli") } })));
  const env = { ...process.env, CI: "true", CHECKPOINT_DISABLE: "1", DISABLE_VERSION_CHECK: "true", UMS_EDGE_CONFIG: config };

  const viaCli = spawnSync("npx", ["--no-install", "cdktf", "synth", "--app", "node dist/main.js", "--output", path.join(dir, "cdktf")], { cwd: ROOT, env, encoding: "utf8", timeout: 150_000 });
  expect(viaCli.status).toBe(0);
  expect(viaCli.stdout).toMatch(/Generated Terraform code for the stacks: /);
  const viaUmsEdge = spawnSync(process.execPath, [path.join(ROOT, "dist", "cli", "index.js"), "synth", "--config", config, "--out", path.join(dir, "ums-edge")], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  expect(viaUmsEdge.status).toBe(0);

  const a = files(path.join(dir, "cdktf"));
  const b = files(path.join(dir, "ums-edge"));
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  expect([...a.keys()].filter((f) => f.endsWith("cdk.tf.json"))).toHaveLength(5);
  for (const [name, bytes] of a) expect({ name, same: bytes.equals(b.get(name)!) }).toEqual({ name, same: true });
  fs.rmSync(dir, { recursive: true, force: true });
}, 200_000);
