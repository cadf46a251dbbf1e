import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import { baseConfig, tempDir } from "../helpers/config";
import { testLabPki } from "../helpers/lab-pki";
import { runCdktfApp } from "../../stacks/cdktf-app";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";
import { projectRoot } from "../../core/project-root";

/** The built `ums-edge` command, run as users run it (npm test builds dist/ first). */
const BIN = path.join(projectRoot(), "dist", "cli", "index.js");

function umsEdge(args: string[], cwd = projectRoot()) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
}

beforeAll(async () => {
  await testLabPki();
  expect(fs.existsSync(BIN)).toBe(true);
});

test("synth without --config uses the example config and writes all five stacks", () => {
  const out = tempDir();
  const r = umsEdge(["synth", "--out", out]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  for (const name of ["ums-alb-verify", "ums-alb-passthrough", "icg-alb-verify", "icg-alb-passthrough", "ums-direct"]) {
    expect(r.stdout).toContain(name);
    expect(JSON.parse(fs.readFileSync(path.join(out, "stacks", name, "cdk.tf.json"), "utf8")).terraform.required_providers.aws.version).toBe("6.25.0");
  }
});

test("synth with a bad config prints the problems, no stack trace, exit code 2, nothing written", () => {
  const dir = tempDir();
  const out = path.join(dir, "out");
  fs.writeFileSync(path.join(dir, "bad.yaml"), stringify(baseConfig({ stacks: [{ variant: "ums-alb-passthrough", advertiseTrustStoreCaNames: "on" }] })));
  const r = umsEdge(["synth", "--config", "bad.yaml", "--out", out], dir);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe(
    "ums-edge: bad.yaml is not a valid ums-edge configuration:\n" +
      "bad.yaml: stacks[0].advertiseTrustStoreCaNames: only valid when the mTLS mode is 'verify'; 'ums-alb-passthrough' uses 'passthrough' (the AWS provider refuses it there)\n" +
      "  fix: remove it from this stack, or use the matching -verify variant\n",
  );
  expect(r.stdout).toBe("");
  expect(fs.existsSync(out)).toBe(false);
});

test("an unknown command or option is a usage error with exit code 2", () => {
  expect(umsEdge(["synthesize"]).status).toBe(2);
  expect(umsEdge(["synth", "--bogus"]).status).toBe(2);
});

test("pki init writes a PKI and prints its directory as JSON; a bad FQDN is refused", () => {
  const dir = path.join(tempDir(), "pki");
  const r = umsEdge(["pki", "init", "--dir", dir, "--fqdn", "ums.corp.test"]);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ dir, fqdn: "ums.corp.test" });
  expect(fs.statSync(path.join(dir, "private_key.pem")).mode & 0o777).toBe(0o600);
  const bad = umsEdge(["pki", "init", "--dir", dir, "--fqdn", "not_a_name"]);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe("ums-edge: --fqdn: 'not_a_name' is not a fully qualified domain name\n  fix: give a name like ums.example.com\n");
});

test("the cdktf app entry (what `cdktf synth` runs) honours UMS_EDGE_CONFIG and CDKTF_OUTDIR", async () => {
  const dir = tempDir();
  const config = path.join(dir, "c.yaml");
  fs.writeFileSync(config, stringify(baseConfig({ stacks: [{ variant: "ums-direct" }] })));
  const out = path.join(dir, "cdktf.out");
  const result = await runCdktfApp({ UMS_EDGE_CONFIG: config, CDKTF_OUTDIR: out }, { labPki: labPkiCertificates });
  expect(Object.keys(result.stacks)).toEqual(["ums-direct"]);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
  expect(Object.keys(manifest.stacks)).toEqual(["ums-direct"]);
});
