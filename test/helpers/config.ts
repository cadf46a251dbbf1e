import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { testPkiDir } from "./lab-pki";
import { loadConfig, EdgeConfig } from "../../stacks/config/load-config";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";

/** A complete, valid config object using the per-worker test PKI; override fields per test. */
export function baseConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    project: "ums-edge",
    region: "eu-central-1",
    network: {
      vpcId: "vpc-0123456789abcdef0",
      albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
      deviceCidrs: ["198.51.100.0/24"],
    },
    cluster: { fqdn: "ums.lab.test" },
    certificates: { labPki: testPkiDir() },
    stacks: [
      { variant: "ums-alb-verify" },
      { variant: "ums-alb-passthrough" },
      { variant: "icg-alb-verify" },
      { variant: "icg-alb-passthrough" },
      { variant: "ums-direct" },
    ],
    ...overrides,
  };
}

/** A fresh temporary directory, removed by the caller (or left in the OS temp dir). */
export function tempDir(prefix = "ums-edge-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `config` (an object, or raw YAML text) to a file in `dir` and returns its path. */
export function writeConfig(dir: string, config: Record<string, unknown> | string, name = "ums-edge.yaml"): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof config === "string" ? config : stringify(config));
  return file;
}

/** Writes and loads a config in one step. */
export async function loadTestConfig(overrides: Record<string, unknown> = {}): Promise<EdgeConfig> {
  return loadConfig(writeConfig(tempDir(), baseConfig(overrides)), { labPki: labPkiCertificates });
}
