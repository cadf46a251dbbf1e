import * as path from "node:path";
import { generateRsaKeyPair, KeyPairPem } from "../../simulator/pki/keys";
import { issueCertificate, CertificateRequest } from "../../simulator/pki/certificates";
import { writePrivateFile, writePublicFile } from "../../simulator/pki/files";

/**
 * Certificates made at test time for the shapes the lab PKI does not have (an intermediate web CA, a
 * certificate without SAN, one about to expire). Keys are generated per call: tests make a handful.
 */

export interface Made {
  readonly certPem: string;
  readonly keys: KeyPairPem;
}

export interface MakeOptions extends Partial<Pick<CertificateRequest, "notBefore" | "notAfter" | "validityDays" | "dnsNames" | "ipAddresses">> {
  readonly profile?: CertificateRequest["profile"];
}

/** A certificate for `commonName`, issued by `issuer` (self-signed when none). */
export async function makeCertificate(commonName: string, issuer: Made | undefined, options: MakeOptions = {}): Promise<Made> {
  const keys = await generateRsaKeyPair(2048);
  const { profile = "ca", ...rest } = options;
  const certPem = issueCertificate({
    subject: { commonName, organization: "ums-edge tests" },
    publicKeyPem: keys.publicKeyPem,
    issuer: issuer ? { certificatePem: issuer.certPem, privateKeyPem: issuer.keys.privateKeyPem } : { privateKeyPem: keys.privateKeyPem },
    profile,
    ...rest,
  });
  return { certPem, keys };
}

/** Writes the three files of the IGEL guide's web certificate export into `dir`; `chain` follows the leaf in entire_chain.pem. */
export function writeWebExport(dir: string, leaf: Made, chain: readonly Made[]): { privateKey: string; headOnlyBody: string; entireChain: string } {
  const files = { privateKey: path.join(dir, "private_key.pem"), headOnlyBody: path.join(dir, "headonly-body.pem"), entireChain: path.join(dir, "entire_chain.pem") };
  writePrivateFile(files.privateKey, leaf.keys.privateKeyPem);
  writePublicFile(files.headOnlyBody, leaf.certPem);
  writePublicFile(files.entireChain, [leaf, ...chain].map((c) => c.certPem).join(""));
  return files;
}
