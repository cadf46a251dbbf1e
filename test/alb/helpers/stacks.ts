import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../../../stacks/config/load-config";
import { synthesize } from "../../../stacks/app";
import { testPkiDir } from "../../helpers/lab-pki";
import { labPkiCertificates } from "../../../simulator/pki/lab-pki";

/**
 * Stacks synthesized at test time into a temporary directory, from a config whose lab PKI is the
 * Jest worker's (so the certificates the tests present are the ones the trust store holds).
 */
export interface SynthesizedStacks {
  readonly outdir: string;
  /** Variant → stack directory. */
  readonly stacks: Readonly<Record<string, string>>;
  cleanup(): void;
}

export async function synthesizeTestStacks(stacks: ReadonlyArray<Record<string, unknown>>, pkiName = "pki"): Promise<SynthesizedStacks> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-alb-"));
  const config = {
    project: "ums-edge",
    region: "eu-central-1",
    network: { vpcId: "vpc-0123456789abcdef0", albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], deviceCidrs: ["0.0.0.0/0"] },
    cluster: { fqdn: "ums.lab.test" },
    certificates: { labPki: testPkiDir(pkiName) },
    stacks,
  };
  const file = path.join(dir, "ums-edge.yaml");
  fs.writeFileSync(file, stringify(config));
  const loaded = await loadConfig(file, { labPki: labPkiCertificates });
  const result = synthesize(loaded, path.join(dir, "cdktf.out"));
  return { outdir: result.outdir, stacks: result.stacks, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of a stack directory whose cdk.tf.json is changed by `edit` (for hand-made cases). */
export function editedStack(stackDir: string, edit: (json: Record<string, any>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-stack-"));
  fs.cpSync(stackDir, dir, { recursive: true });
  const file = path.join(dir, "cdk.tf.json");
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
  return dir;
}

/** A copy of a stack directory whose load balancer (aws_lb) has these attributes too, e.g. `{ idle_timeout: 1 }`. */
export function withLoadBalancerAttributes(stackDir: string, attributes: Record<string, unknown>): string {
  return editedStack(stackDir, (json) => {
    for (const lb of Object.values(json.resource.aws_lb) as Array<Record<string, unknown>>) Object.assign(lb, attributes);
  });
}
