import * as fs from "node:fs";
import * as path from "node:path";
import { parseCrls } from "../../core/crl-reader";
import { issueCertificate, randomSerialHex } from "./certificates";
import { buildCrl } from "./crl";
import { writePrivateFile, writePublicFile } from "./files";
import { generateRsaKeyPair, KeyPairPem, publicKeyPemOf } from "./keys";
import type { CertificateFiles } from "./lab-pki";

/**
 * Certificates changing under a running deployment, made with the lab's own tools: a second device
 * CA (the one a UMS rotates to), a device certificate from any CA, a CRL that revokes one more
 * device, a renewed web certificate. Keys are written 0600 as everywhere in the lab.
 */

const ORG = "IGEL Lab (ums-edge test PKI)";

/** Where new key pairs come from: generated (~150-200 ms each), or drawn from a lab's KeyPool. @default generated, RSA-2048 */
export type KeySource = () => Promise<KeyPairPem>;
const generated: KeySource = () => generateRsaKeyPair(2048);

/** A device CA: its chain as the UMS exports it (issuing CA first, up to the root) and what signs. */
export interface DeviceCaFiles {
  /** Issuing CA, then root (PEM): what goes into a trust store bundle. */
  readonly chain: string;
  /** The issuing CA's certificate and key. */
  readonly cert: string;
  readonly key: string;
  /** What a device presents above its certificate: the issuing CA (not the root). */
  readonly presented: string;
}

/** A new device CA (root + issuing CA, RSA-2048) under `dir`, named by `label`. */
export async function createDeviceCa(dir: string, label: string, keys: KeySource = generated): Promise<DeviceCaFiles> {
  const [rootKey, caKey] = await Promise.all([keys(), keys()]);
  const dn = (commonName: string) => ({ commonName, organization: ORG, organizationalUnit: "device-ca" });
  const root = issueCertificate({ subject: dn(`${label} Root CA`), publicKeyPem: rootKey.publicKeyPem, issuer: { privateKeyPem: rootKey.privateKeyPem }, profile: "ca", validityDays: 3650 });
  const ca = issueCertificate({
    subject: dn(`${label} Device CA`),
    publicKeyPem: caKey.publicKeyPem,
    issuer: { certificatePem: root, privateKeyPem: rootKey.privateKeyPem },
    profile: "ca",
    validityDays: 1825,
  });
  const files: DeviceCaFiles = { chain: path.join(dir, "chain.pem"), cert: path.join(dir, "ca.pem"), key: path.join(dir, "ca.key.pem"), presented: path.join(dir, "presented.pem") };
  writePublicFile(files.chain, ca + root);
  writePublicFile(files.cert, ca);
  writePublicFile(files.presented, ca);
  writePrivateFile(files.key, caKey.privateKeyPem);
  return files;
}

/** A device certificate for `unitId` (its CN) from `ca`, written under `dir`; its serial comes back too. */
export async function issueDeviceCertificate(
  ca: { readonly cert: string; readonly key: string; readonly presented: string },
  dir: string,
  unitId: string,
  keySource: KeySource = generated,
): Promise<CertificateFiles & { readonly serialHex: string }> {
  const keys = await keySource();
  const serialHex = randomSerialHex();
  const cert = issueCertificate({
    subject: { commonName: unitId, organization: ORG, organizationalUnit: "devices" },
    publicKeyPem: keys.publicKeyPem,
    issuer: { certificatePem: fs.readFileSync(ca.cert, "utf8"), privateKeyPem: fs.readFileSync(ca.key, "utf8") },
    profile: "client",
    serialHex,
  });
  const files = { cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem"), chain: path.join(dir, "chain.pem"), serialHex };
  writePublicFile(files.cert, cert);
  writePrivateFile(files.key, keys.privateKeyPem);
  writePublicFile(files.chain, cert + fs.readFileSync(ca.presented, "utf8"));
  return files;
}

/**
 * Re-issues the CRL in `crlFile` (signed by the CA in `ca`) with `serialHex` revoked too, keeping
 * every serial it already listed: what the UMS's CA does when the administrator revokes a device.
 * Written to a temporary file and renamed, so no reader sees half a CRL.
 */
export function revokeInCrl(crlFile: string, ca: { readonly cert: string; readonly key: string }, serialHex: string, now = new Date()): void {
  const listed = parseCrls(fs.readFileSync(crlFile, "utf8")).flatMap((c) => [...c.revokedSerials]);
  // The reader drops leading zero bytes: put one back where the first bit would make the INTEGER negative.
  const positive = (hex: string) => (hex.length % 2 === 0 && /^[89a-f]/i.test(hex) ? `00${hex}` : hex).toLowerCase();
  const serials = [...new Set([...listed, serialHex].map(positive))];
  const pem = buildCrl({
    issuerCertificatePem: fs.readFileSync(ca.cert, "utf8"),
    issuerPrivateKeyPem: fs.readFileSync(ca.key, "utf8"),
    revoked: serials.map((s) => ({ serialHex: s, revokedAt: new Date(now.getTime() - 1000) })),
    thisUpdate: new Date(now.getTime() - 60_000),
    nextUpdate: new Date(now.getTime() + 30 * 86_400_000),
    crlNumber: Math.floor(now.getTime() / 1000),
  });
  const tmp = `${crlFile}.new`;
  writePublicFile(tmp, pem);
  fs.renameSync(tmp, crlFile);
}

/**
 * A renewed web certificate for the same names, signed by a new self-made root (what a CA would
 * issue at renewal): the IGEL guide's three exports under `dir`, and the root devices would trust.
 */
export async function renewWebCertificate(
  dir: string,
  dnsNames: readonly string[],
  keys: KeySource = generated,
): Promise<{ readonly privateKey: string; readonly headOnlyBody: string; readonly entireChain: string; readonly rootCert: string }> {
  const [rootKey, key] = await Promise.all([keys(), keys()]);
  const root = issueCertificate({ subject: { commonName: "UMS Lab Web Root CA (renewed)", organization: ORG, organizationalUnit: "web" }, publicKeyPem: rootKey.publicKeyPem, issuer: { privateKeyPem: rootKey.privateKeyPem }, profile: "ca", validityDays: 3650 });
  const body = issueCertificate({
    subject: { commonName: dnsNames[0], organization: ORG, organizationalUnit: "web" },
    publicKeyPem: publicKeyPemOf(key.privateKeyPem),
    issuer: { certificatePem: root, privateKeyPem: rootKey.privateKeyPem },
    profile: "server",
    dnsNames,
    ipAddresses: ["127.0.0.1"],
  });
  const files = { privateKey: path.join(dir, "private_key.pem"), headOnlyBody: path.join(dir, "headonly-body.pem"), entireChain: path.join(dir, "entire_chain.pem"), rootCert: path.join(dir, "web-root.pem") };
  writePrivateFile(files.privateKey, key.privateKeyPem);
  writePublicFile(files.headOnlyBody, body);
  writePublicFile(files.entireChain, body + root);
  writePublicFile(files.rootCert, root);
  return files;
}
