import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { initLabPki, LabPki, DEFAULT_FQDN } from "../pki/lab-pki";
import { loadConfig, EdgeConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { STACK_VARIANTS, StackVariant } from "../../core/stack-variants";
import { MTLS_HEADER_DISPLAY } from "../../core/aws-headers";
import { UserError } from "../../core/errors";
import { readStackOutput } from "../terraform/read-stack";
import type { AppConfigSource } from "./topologies/definitions";
import { writePublicFile } from "../pki/files";
import { DEFAULT_SUBNETS } from "./netns/address-plan";
import { HOST_LINK_SUBNET } from "./runtime";
import { labPkiCertificates } from "../pki/lab-pki";
import type { AdminCredentials } from "../ums/admin-auth";

/** The lab's admin user; its password is made up per lab (never a constant a reader of the code could try). */
export const LAB_ADMIN_USER = "admin";

/** A new random admin password for the lab, written 0600 beside the PKI. */
function labAdminPassword(root: string): string {
  const password = randomBytes(18).toString("base64url");
  const file = path.join(root, "admin-password");
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * The lab directory a simulation works in: a lab PKI, a config naming it, the stacks synthesized
 * from that config (the ALB emulator is configured from them: one source of truth), and the UMS
 * application.yml files the topologies need — the ALB ones taken from the stacks' own
 * `ums_application_yml` output.
 */

export interface Lab {
  readonly dir: string;
  readonly pki: LabPki;
  /** The ums-edge config the stacks were synthesized from. */
  readonly configFile: string;
  /** `<dir>/cdktf.out`. */
  readonly synthDir: string;
  /**
   * The directory of a synthesized stack; a UserError when the config has no such stack. With
   * `servers` above the config's instance count (the HA topologies), the same config with
   * `instance.count: servers`, synthesized on first use beside the others. @default servers 1: the config as it is
   */
  stackDir(variant: StackVariant, servers?: number): string;
  hasStack(variant: StackVariant): boolean;
  /** The application.yml a topology names: a lab file, or (`stack`) the stack's own `ums_application_yml` output. */
  appConfigFile(source: AppConfigSource, stack?: StackVariant): string;
  /** The IMI credentials of the lab's UMS servers: a password made up for this lab (kept 0600 in `<dir>/admin-password`). */
  readonly admin: AdminCredentials;
  /** Set when the stacks come from an administrator's config (`--config`): that file, and each input as given or substituted. */
  readonly user?: UserInputs;
}

/** One input of a lab made from an administrator's config: used as given, or substituted (and why). */
export interface LabInput {
  readonly input: string;
  readonly file: string;
  readonly origin: "yours" | "substituted";
  readonly note: string;
}

export interface UserInputs {
  readonly configFile: string;
  readonly inputs: readonly LabInput[];
}

/** The device networks simulated devices connect from: the namespace runtime's internet side and this process's own link. */
export const LAB_DEVICE_CIDRS: readonly string[] = [DEFAULT_SUBNETS.internet, HOST_LINK_SUBNET];

/** The header nginx forwards the device certificate in (our choice; the UMS application.yml names it). */
export const REVERSE_PROXY_HEADER = "X-Ssl-Client-Cert";

function forwardingYml(header: string | undefined, encoding = true): string {
  const block = header ? { enabled: true, ...(encoding ? { encodingType: "URL_AWS" } : {}), "client-cert-forwarded-header": header } : { enabled: false };
  return stringify({ igel: { "client-cert-forwarding": block } });
}

/** The application.yml files that are not a stack's output: no forwarding, nginx's header, and two mistakes users make. */
const LAB_APP_CONFIGS: Readonly<Record<Exclude<AppConfigSource, "stack">, string>> = {
  "no-forwarding": forwardingYml(undefined),
  "reverse-proxy": forwardingYml(REVERSE_PROXY_HEADER),
  // The passthrough header behind a verify listener, and forwarding without URL_AWS: the simulation shows what they do.
  "wrong-header-verify": forwardingYml(MTLS_HEADER_DISPLAY.clientcert),
  "no-url-aws-passthrough": forwardingYml(MTLS_HEADER_DISPLAY.clientcert, false),
};

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
          deviceCidrs: [...LAB_DEVICE_CIDRS],
        },
        cluster: { fqdn },
        certificates: { labPki: "./pki" },
        stacks: STACK_VARIANTS.map((variant) => ({ variant })),
      }),
  );
  const synthDir = path.join(root, "cdktf.out");
  fs.rmSync(synthDir, { recursive: true, force: true });
  const config = await loadConfig(configFile, { labPki: labPkiCertificates });
  const result = synthesize(config, synthDir);
  return labOf(root, pki, configFile, synthDir, result.stacks, undefined, config);
}

/** The Lab over a synthesized config: application.yml files written now, stacks looked up by variant. */
export function labOf(root: string, pki: LabPki, configFile: string, synthDir: string, stacks: Readonly<Record<string, string>>, user?: UserInputs, config?: EdgeConfig): Lab {
  const admin: AdminCredentials = { username: LAB_ADMIN_USER, password: labAdminPassword(root) };
  const appDir = path.join(root, "app-config");
  const files = new Map<string, string>();
  for (const [name, text] of Object.entries(LAB_APP_CONFIGS)) {
    const file = path.join(appDir, `${name}.yml`);
    writePublicFile(file, text);
    files.set(name, file);
  }
  const clusters = new Map<string, string>();
  const stackDir = (variant: StackVariant, servers = 1): string => {
    const dir = stacks[variant];
    if (!dir) throw new UserError(`the lab's config (${configFile}) has no '${variant}' stack\n  fix: list '${variant}' under stacks[] in the config`);
    if (servers <= (config?.instance.count ?? 1)) return dir;
    if (!config) throw new Error(`a stack with ${servers} servers needs the lab's loaded config`);
    const key = `${variant}:${servers}`;
    if (!clusters.has(key)) {
      // The same config, every setting kept, with more servers behind the load balancer (instance.count).
      const out = path.join(root, `cdktf.out.servers-${servers}`, variant);
      fs.rmSync(out, { recursive: true, force: true });
      fs.mkdirSync(out, { recursive: true });
      const result = synthesize({ ...config, instance: { ...config.instance, count: servers }, stacks: config.stacks.filter((s) => s.variant === variant) }, out);
      clusters.set(key, result.stacks[variant]);
    }
    return clusters.get(key)!;
  };
  return {
    dir: root,
    pki,
    configFile,
    synthDir,
    stackDir,
    hasStack: (variant) => variant in stacks,
    admin,
    user,
    appConfigFile(source, stack) {
      if (source !== "stack") return files.get(source)!;
      if (!stack) throw new Error("an application.yml from the stack needs the topology's stack");
      const key = `stack:${stack}`;
      if (!files.has(key)) {
        // What the administrator pastes into the UMS: the stack's own output.
        const file = path.join(appDir, `${stack}.yml`);
        writePublicFile(file, readStackOutput(stackDir(stack), "ums_application_yml"));
        files.set(key, file);
      }
      return files.get(key)!;
    },
  };
}
