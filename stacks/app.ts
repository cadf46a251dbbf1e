import * as fs from "node:fs";
import * as path from "node:path";
import { App } from "./aws";
import type { EdgeConfig, StackSpec } from "./config/load-config";
import { KEY_LABELS } from "./config/certificate-checks";
import { EdgeStack, EdgeStackProps } from "./edge-stack";
import { DirectStack, DirectStackProps } from "./direct-stack";
import type { WebCertificateFiles } from "./web-certificate";
import { STACK_VARIANT } from "../core/stack-variants";
import { pemOnly } from "../core/pem";
import { partitionOf } from "./elb-log-delivery";
import type { ProviderProps } from "./stack-basics";

/**
 * The one mapping from a loaded config to the stacks' props: the stacks and constructs receive
 * props, never the config.
 */

/** The files AWS reads, as synth writes them: PEM blocks only, LF line endings, the ACM chain in order. */
export interface StackAssets {
  readonly clientCaChain?: string;
  readonly crl?: string;
  readonly web?: WebCertificateFiles;
}

/**
 * Writes the normalised copies of the config's certificate files into `dir` (keys 0600). The stacks
 * make Terraform assets of these copies, so every file in the synth output is clean, whatever the
 * export looked like (CRLF, Bag Attributes, an EC PARAMETERS block, the chain in any order).
 */
export function stageAssets(config: EdgeConfig, dir: string): StackAssets {
  const c = config.certificates;
  const write = (name: string, text: string, mode = 0o644): string => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
    return file;
  };
  const clean = (file: string, labels: readonly string[]) => pemOnly(fs.readFileSync(file, "utf8"), labels).text;
  return {
    clientCaChain: c.clientCaChain ? write("client-ca-chain.pem", clean(c.clientCaChain, ["CERTIFICATE"])) : undefined,
    crl: c.crl ? write("revocations.crl.pem", clean(c.crl, ["X509 CRL"])) : undefined,
    web: c.web
      ? {
          privateKey: write("private_key.pem", clean(c.web.privateKey, KEY_LABELS), 0o600),
          body: write("headonly-body.pem", clean(c.web.headOnlyBody, ["CERTIFICATE"])),
          chain: c.webAcmChain ? write("acm-chain.pem", c.webAcmChain) : undefined,
        }
      : undefined,
  };
}

/** What every stack's props start with: its name, provider, state, resource-name prefix and FQDN. */
function stackBasics(config: EdgeConfig, spec: StackSpec) {
  const provider: ProviderProps = { region: config.region, tags: { Project: config.project, Stack: spec.variant, ManagedBy: "ums-edge" } };
  return { stackName: spec.variant, provider, state: config.state, namePrefix: `${config.project}-${STACK_VARIANT[spec.variant].code}`, fqdn: config.cluster.fqdn };
}

function serverOptions(config: EdgeConfig) {
  const i = config.instance;
  return {
    subnetIds: config.network.instanceSubnetIds,
    count: i.count,
    instanceType: i.type,
    keyName: i.keyName,
    rootVolumeGiB: i.rootVolumeGiB,
    adminCidrs: i.adminCidrs,
    ssm: i.ssm,
    partition: partitionOf(config.region),
  };
}

/** The props of one load-balanced stack. */
export function edgeStackProps(config: EdgeConfig, spec: StackSpec, assets: StackAssets): EdgeStackProps {
  if (!spec.mtlsMode) throw new Error(`'${spec.variant}' has no load balancer; use directStackProps`);
  return {
    ...stackBasics(config, spec),
    webCertificate: config.certificates.webCertificateArn ? { existingArn: config.certificates.webCertificateArn } : { files: assets.web },
    trustStore: spec.mtlsMode === "verify" ? { caBundleFile: assets.clientCaChain!, crlFile: assets.crl } : undefined,
    front: {
      backend: spec.backend,
      mode: spec.mtlsMode,
      vpcId: config.network.vpcId,
      subnetIds: config.network.albSubnetIds,
      clientCidrs: config.network.deviceCidrs,
      listeners: spec.listeners,
      sslPolicy: spec.sslPolicy,
      pathAllowList: spec.pathAllowList,
      headerNames: spec.headerNames,
      ignoreClientCertificateExpiry: spec.ignoreClientCertificateExpiry,
      advertiseTrustStoreCaNames: spec.advertiseTrustStoreCaNames,
      healthCheck: spec.healthCheck,
      attributes: spec.loadBalancer,
    },
    servers: serverOptions(config),
    logs: { prefix: config.logs.prefix, forceDestroy: config.logs.forceDestroy, healthCheckLogs: config.logs.healthCheckLogs },
  };
}

/** The props of the stack without a load balancer (ums-direct). */
export function directStackProps(config: EdgeConfig, spec: StackSpec): DirectStackProps {
  return {
    ...stackBasics(config, spec),
    server: { ...serverOptions(config), vpcId: config.network.vpcId },
    clientCidrs: config.network.deviceCidrs,
  };
}

/** Adds one stack per configured variant to `app`. */
export function addStacks(app: App, config: EdgeConfig, assets: StackAssets): void {
  for (const spec of config.stacks) {
    if (spec.mtlsMode) new EdgeStack(app, edgeStackProps(config, spec, assets));
    else new DirectStack(app, directStackProps(config, spec));
  }
}

export interface SynthResult {
  readonly outdir: string;
  /** Stack name → directory holding its cdk.tf.json. */
  readonly stacks: Readonly<Record<string, string>>;
}

/** Where the normalised copies wait while the stacks are built (removed after synth). */
const STAGING_DIR = ".ums-edge-staging";

/** Adds the configured stacks to `app`, synthesizes them and locks down private-key assets. */
export function synthesizeApp(app: App, config: EdgeConfig): SynthResult {
  const staging = path.join(app.outdir, STAGING_DIR);
  try {
    addStacks(app, config, stageAssets(config, staging));
    app.synth();
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const stacks = Object.fromEntries(config.stacks.map((s) => [s.variant, path.join(app.outdir, "stacks", s.variant)]));
  for (const dir of Object.values(stacks)) protectPrivateKeyAssets(dir);
  return { outdir: app.outdir, stacks };
}

/** Synthesizes every configured stack into `outdir/stacks/<name>/cdk.tf.json`. */
export function synthesize(config: EdgeConfig, outdir: string): SynthResult {
  return synthesizeApp(new App({ outdir }), config);
}

/** Asset copies keep the source file's mode; make sure every private-key copy is 0600. */
function protectPrivateKeyAssets(stackDir: string): void {
  const assets = path.join(stackDir, "assets");
  if (!fs.existsSync(assets)) return;
  for (const entry of fs.readdirSync(assets, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (fs.readFileSync(file, "utf8").includes("PRIVATE KEY-----")) fs.chmodSync(file, 0o600);
  }
}
