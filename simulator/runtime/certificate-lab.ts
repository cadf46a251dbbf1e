import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { UserError } from "../../core/errors";
import { loadLabPki } from "../pki/lab-pki";
import { writePublicFile } from "../pki/files";
import { labOf, Lab } from "./lab";
import type { TopologyName } from "./topologies/definitions";
import { topologyDefinition } from "./topologies/definitions";

/**
 * A private copy of the lab in which certificates may change while a topology runs (issue 15 §2):
 * its own PKI (the UMS re-reads its device CA chain and CRL there), and a config naming the trust
 * store bundle, the CRL and the web certificate as files, so that changing a file and synthesizing
 * again is what an administrator does before `terraform apply`. Nothing here touches the lab it
 * copies, which other topologies keep using.
 */

export interface WebFiles {
  readonly privateKey: string;
  readonly headOnlyBody: string;
  readonly entireChain: string;
}

export interface CertificateLab {
  readonly lab: Lab;
  readonly dir: string;
  /** The trust store bundle file the config names (starts as the UMS's exported chain). */
  readonly bundleFile: string;
  /**
   * Sets what the config names and synthesizes the topology's stack again into the same directory
   * (the running emulator picks it up): the bundle's PEM, whether the CRL (the PKI's) goes to the
   * trust store, the web certificate files. Unset fields stay as they are.
   */
  apply(change: { readonly bundlePem?: string; readonly crl?: boolean; readonly web?: WebFiles }): Promise<void>;
}

/** `<lab>/certificate-changes/<topology>`: a copy of the lab's PKI and a config for the topology's stack only. */
export async function certificateLab(lab: Lab, topology: TopologyName): Promise<CertificateLab> {
  if (lab.user) throw new UserError("certificate changes run on the lab's own PKI (a copy of it), not on an administrator's config");
  const dir = path.join(lab.dir, "certificate-changes", topology);
  fs.rmSync(dir, { recursive: true, force: true });
  const pkiDir = path.join(dir, "pki");
  // The key pool is large and only read: shared, not copied.
  fs.cpSync(lab.pki.dir, pkiDir, { recursive: true, filter: (src) => path.resolve(src) !== path.resolve(lab.pki.keyPool) });
  if (fs.existsSync(lab.pki.keyPool)) fs.symlinkSync(lab.pki.keyPool, path.join(pkiDir, path.relative(lab.pki.dir, lab.pki.keyPool)));
  const pki = loadLabPki(pkiDir);
  const bundleFile = path.join(dir, "trust-store-bundle.pem");
  writePublicFile(bundleFile, fs.readFileSync(pki.clientCaChain, "utf8"));

  const base = parse(fs.readFileSync(lab.configFile, "utf8")) as Record<string, unknown>;
  const variant = topologyDefinition(topology).stack;
  const state = { crl: true, web: { privateKey: pki.web.privateKey, headOnlyBody: pki.web.headOnlyBody, entireChain: pki.web.entireChain } as WebFiles };
  const configFile = path.join(dir, "ums-edge.yaml");
  const synthDir = path.join(dir, "cdktf.out");
  const synth = async () => {
    writePublicFile(
      configFile,
      "# Written by ums-edge simulate: certificates changing under a running deployment.\n" +
        stringify({
          ...base,
          certificates: { clientCaChain: bundleFile, ...(state.crl ? { crl: pki.crl } : {}), web: state.web },
          stacks: variant ? [{ variant }] : base.stacks,
        }),
    );
    // A topology without a stack (nginx, ICG) takes its certificates from the PKI alone.
    return variant ? synthesize(await loadConfig(configFile), synthDir).stacks : {};
  };
  const stacks = await synth();
  return {
    lab: labOf(dir, pki, configFile, synthDir, stacks),
    dir,
    bundleFile,
    async apply(change) {
      if (change.bundlePem !== undefined) writePublicFile(bundleFile, change.bundlePem);
      if (change.crl !== undefined) state.crl = change.crl;
      if (change.web) state.web = change.web;
      await synth();
    },
  };
}
