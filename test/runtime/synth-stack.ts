import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";

/** The device CIDR the test stacks admit: the netns runtime's default internet subnet. */
export const TEST_DEVICE_CIDR = "198.51.100.0/24";

/**
 * Synthesizes `variants` at test time (config in a temp dir, the per-worker lab PKI) and returns
 * the directory of each stack; the caller removes `outdir`.
 */
export async function synthesizeTestStacks(variants: readonly string[]): Promise<{ outdir: string; stacks: Readonly<Record<string, string>> }> {
  await testLabPki();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-sg-"));
  const file = path.join(outdir, "ums-edge.yaml");
  fs.writeFileSync(
    file,
    stringify({
      project: "ums-edge",
      region: "eu-central-1",
      network: { vpcId: "vpc-0123456789abcdef0", albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], instanceSubnetId: "subnet-0aaaaaaaaaaaaaaa1", deviceCidrs: [TEST_DEVICE_CIDR] },
      cluster: { fqdn: "ums.lab.test" },
      certificates: { labPki: testPkiDir() },
      stacks: variants.map((variant) => ({ variant })),
    }),
  );
  const result = synthesize(await loadConfig(file, { labPki: labPkiCertificates }), path.join(outdir, "cdktf.out"));
  return { outdir, stacks: result.stacks };
}
