import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { initLabPki, LabPki, DEFAULT_FQDN } from "../pki/lab-pki";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { STACK_VARIANTS, StackVariant } from "../../core/stack-variants";
import { writePublicFile } from "../pki/files";
import { DEFAULT_SUBNETS } from "./netns/address-plan";
import { HOST_LINK_SUBNET } from "./runtime";
import { labPkiCertificates } from "../pki/lab-pki";

/**
 * The lab directory a simulation works in: a lab PKI, a config naming it, the stacks synthesized
 * from that config (the ALB emulator is configured from them: one source of truth), and the UMS
 * application.yml files the topologies need — the ALB ones taken from the stacks' own
 * `ums_application_yml` output.
 */

export type AppConfigName = "no-forwarding" | "alb-verify" | "alb-passthrough" | "reverse-proxy" | "wrong-header-verify" | "no-url-aws-passthrough";

export interface Lab {
  readonly dir: string;
  readonly pki: LabPki;
  /** The ums-edge config the stacks were synthesized from. */
  readonly configFile: string;
  /** `<dir>/cdktf.out`. */
  readonly synthDir: string;
  readonly appConfigs: Readonly<Record<AppConfigName, string>>;
  stackDir(variant: StackVariant): string;
}

/** The header nginx forwards the device certificate in (our choice; the UMS application.yml names it). */
export const REVERSE_PROXY_HEADER = "X-Ssl-Client-Cert";

function outputOf(stackDir: string, name: string): string {
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as { output: Record<string, { value: string }> };
  return json.output[name].value;
}

function forwardingYml(header: string | undefined, encoding = true): string {
  const block = header ? { enabled: true, ...(encoding ? { encodingType: "URL_AWS" } : {}), "client-cert-forwarded-header": header } : { enabled: false };
  return stringify({ igel: { "client-cert-forwarding": block } });
}

export async function prepareLab(dir: string, fqdn = DEFAULT_FQDN): Promise<Lab> {
  const root = path.resolve(dir);
  const pki = await initLabPki(path.join(root, "pki"), { fqdn });
  const configFile = path.join(root, "ums-edge.yaml");
  writePublicFile(
    configFile,
    "# Written by ums-edge simulate: the stacks the simulated topologies are configured from.\n" +
      stringify({
        project: "ums-edge-lab",
        region: "eu-central-1",
        network: {
          vpcId: "vpc-0123456789abcdef0",
          albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
          // The namespace runtime's device networks (its internet side, and the simulation's own link):
          // the ALB security group admits devices from them.
          deviceCidrs: [DEFAULT_SUBNETS.internet, HOST_LINK_SUBNET],
        },
        cluster: { fqdn },
        certificates: { labPki: "./pki" },
        stacks: STACK_VARIANTS.map((variant) => ({ variant })),
      }),
  );
  const synthDir = path.join(root, "cdktf.out");
  fs.rmSync(synthDir, { recursive: true, force: true });
  const result = synthesize(await loadConfig(configFile, { labPki: labPkiCertificates }), synthDir);
  const stackDir = (variant: StackVariant) => result.stacks[variant];

  const appDir = path.join(root, "app-config");
  const appConfigs: Record<AppConfigName, string> = {
    "no-forwarding": path.join(appDir, "no-forwarding.yml"),
    "alb-verify": path.join(appDir, "alb-verify.yml"),
    "alb-passthrough": path.join(appDir, "alb-passthrough.yml"),
    "reverse-proxy": path.join(appDir, "reverse-proxy.yml"),
    "wrong-header-verify": path.join(appDir, "wrong-header-verify.yml"),
    "no-url-aws-passthrough": path.join(appDir, "no-url-aws-passthrough.yml"),
  };
  writePublicFile(appConfigs["no-forwarding"], forwardingYml(undefined));
  writePublicFile(appConfigs["alb-verify"], outputOf(stackDir("ums-alb-verify"), "ums_application_yml"));
  writePublicFile(appConfigs["alb-passthrough"], outputOf(stackDir("ums-alb-passthrough"), "ums_application_yml"));
  writePublicFile(appConfigs["reverse-proxy"], forwardingYml(REVERSE_PROXY_HEADER));
  // Two misconfigurations users make, so the simulation shows what they do: the passthrough header
  // behind a verify listener, and forwarding without URL_AWS.
  writePublicFile(appConfigs["wrong-header-verify"], forwardingYml("X-Amzn-Mtls-Clientcert"));
  writePublicFile(appConfigs["no-url-aws-passthrough"], forwardingYml("X-Amzn-Mtls-Clientcert", false));
  return { dir: root, pki, configFile, synthDir, appConfigs, stackDir };
}
