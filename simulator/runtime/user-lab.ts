import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument, stringify } from "yaml";
import { loadConfig, EdgeConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { certificatesFromPem } from "../../core/pem";
import { initLabPki, labPkiCertificates, DeviceCaShape, DEFAULT_DEVICE_CA_SHAPE } from "../pki/lab-pki";
import { writePublicFile } from "../pki/files";
import { labOf, Lab, LabInput, LAB_DEVICE_CIDRS } from "./lab";

/**
 * A lab made from an administrator's own config (`simulate --config`, `lab up --config`): the
 * stacks are synthesized from that config with every setting as given, so the emulated ALB is
 * theirs. What they cannot give is substituted, and the lab says so per input:
 * - the UMS device CA's key never leaves the UMS, so devices are issued by a lab CA of the same
 *   shape (depth, RSA key sizes) that replaces their bundle in the trust store, with a lab CRL in
 *   place of theirs;
 * - devices run in the lab's device networks, which are added to the device CIDRs;
 * - a certificate already in ACM (webCertificateArn) has no files here: a lab one stands in.
 * Their web certificate, chain and key are served as they are, and devices trust the top of that
 * chain, so a broken served chain shows up in the run.
 */

/** RSA key sizes of a UMS client-certificate chain export, root first (the export lists the issuing CA first). */
function shapeOf(clientCaChainFile: string): { shape: DeviceCaShape; note?: string } {
  const certs = certificatesFromPem(fs.readFileSync(clientCaChainFile, "utf8"));
  const rootFirst = [...certs].reverse();
  const bits = rootFirst.map((c) => (c.publicKey.asymmetricKeyType === "rsa" ? (c.publicKey.asymmetricKeyDetails?.modulusLength ?? 2048) : undefined));
  const nonRsa = rootFirst.filter((_, i) => bits[i] === undefined).map((c) => c.publicKey.asymmetricKeyType);
  const shape = { rsaBits: bits.map((b) => b ?? 2048) };
  const note = nonRsa.length ? `your chain has ${nonRsa.join(", ")} keys; the lab chain uses RSA-2048 in their place (the lab PKI builds RSA certificates only)` : undefined;
  return { shape: shape.rsaBits.length ? shape : DEFAULT_DEVICE_CA_SHAPE, note };
}

function describeShape(shape: DeviceCaShape): string {
  return `depth ${shape.rsaBits.length}, RSA ${shape.rsaBits.join("/")} root first`;
}

/** The config as the administrator wrote it, with only the substituted inputs replaced (paths made absolute). */
function derivedConfig(userFile: string, config: EdgeConfig, replace: { clientCaChain?: string; crl?: string; web: EdgeConfig["certificates"]["web"] }): string {
  const doc = parseDocument(fs.readFileSync(userFile, "utf8")).toJS() as Record<string, unknown>;
  const certificates: Record<string, unknown> = {};
  if (replace.clientCaChain) certificates.clientCaChain = replace.clientCaChain;
  if (replace.crl) certificates.crl = replace.crl;
  if (replace.web) certificates.web = { ...replace.web };
  const network = { ...(doc.network as Record<string, unknown>), deviceCidrs: [...new Set([...config.network.deviceCidrs, ...LAB_DEVICE_CIDRS])] };
  return stringify({ ...doc, network, certificates });
}

export async function prepareLabFromConfig(dir: string, configFile: string): Promise<Lab> {
  const root = path.resolve(dir);
  const userFile = path.resolve(configFile);
  // Checked first, exactly as `ums-edge synth` checks it: a bad config stops here, before anything is made.
  const config = await loadConfig(configFile, { labPki: labPkiCertificates });
  const c = config.certificates;
  const inputs: LabInput[] = [{ input: "config", file: userFile, origin: "yours", note: "every stack and setting as you wrote it: variants, listeners, TLS policy, header names, allow-list, mTLS options, logs" }];

  const { shape, note: shapeNote } = c.clientCaChain ? shapeOf(c.clientCaChain) : { shape: DEFAULT_DEVICE_CA_SHAPE, note: undefined };
  const pki = await initLabPki(path.join(root, "pki"), { fqdn: config.cluster.fqdn, deviceCaShape: shape, web: c.web });

  if (c.web) {
    for (const [key, file] of Object.entries(c.web)) inputs.push({ input: `web certificate: ${key}`, file, origin: "yours", note: "served by the emulated ALB and by the UMS; devices trust the top of the chain" });
  } else {
    inputs.push({ input: "web certificate", file: c.webCertificateArn ?? "", origin: "substituted", note: `${c.webCertificateArn ? "your certificate is already in ACM, so its key is not here" : "none given"}: a lab certificate for ${config.cluster.fqdn} is served instead (${pki.web.entireChain})` });
  }
  if (c.clientCaChain) {
    inputs.push({
      input: "client CA chain (trust store bundle)",
      file: c.clientCaChain,
      origin: "substituted",
      note: `the UMS device CA's key never leaves the UMS: a lab device CA of the same shape (${describeShape(shape)}) issues the devices and replaces your bundle (${pki.clientCaChain})${shapeNote ? `; ${shapeNote}` : ""}`,
    });
  }
  if (c.crl) inputs.push({ input: "CRL (trust store revocation)", file: c.crl, origin: "substituted", note: `a CRL of the lab device CA listing the lab's revoked device replaces yours (${pki.crl})` });
  inputs.push({ input: "device CIDRs", file: userFile, origin: "substituted", note: `yours plus the lab's device networks (${LAB_DEVICE_CIDRS.join(", ")}), where the simulated devices connect from` });

  const configOut = path.join(root, "ums-edge.yaml");
  writePublicFile(
    configOut,
    `# Written by ums-edge from ${userFile}: your config with the substituted inputs replaced (see the report).\n` +
      derivedConfig(userFile, config, {
        clientCaChain: c.clientCaChain ? pki.clientCaChain : undefined,
        crl: c.crl ? pki.crl : undefined,
        web: c.web ?? { privateKey: pki.web.privateKey, headOnlyBody: pki.web.headOnlyBody, entireChain: pki.web.entireChain },
      }),
  );
  const synthDir = path.join(root, "cdktf.out");
  fs.rmSync(synthDir, { recursive: true, force: true });
  const loaded = await loadConfig(configOut);
  const result = synthesize(loaded, synthDir);
  return labOf(root, pki, configOut, synthDir, result.stacks, { configFile: userFile, inputs }, loaded);
}
