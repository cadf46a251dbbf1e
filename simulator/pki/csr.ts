import { createPublicKey, verify as cryptoVerify, KeyObject } from "node:crypto";
import forge from "node-forge";
import { signCertificationRequest } from "./native-sign";
import type { DistinguishedName } from "./certificates";

/** A PKCS#10 certificate request for `subject`, signed natively with the device's key. */
export function createCsr(privateKeyPem: string, publicKeyPem: string, subject: DistinguishedName): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  const attrs: forge.pki.CertificateField[] = [];
  if (subject.organization) attrs.push({ shortName: "O", value: subject.organization });
  if (subject.organizationalUnit) attrs.push({ shortName: "OU", value: subject.organizationalUnit });
  attrs.push({ shortName: "CN", value: subject.commonName });
  csr.setSubject(attrs);
  signCertificationRequest(csr, privateKeyPem);
  return forge.pki.certificationRequestToPem(csr);
}

export interface ParsedCsr {
  readonly commonName: string;
  readonly publicKeyPem: string;
  readonly keyBits: number;
}

export class CsrError extends Error {}

/** Parses a CSR and checks its self-signature; throws CsrError with a reason a client can act on. */
export function parseCsr(pem: string): ParsedCsr {
  if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE REQUEST-----")) {
    throw new CsrError("csr must be a PEM 'CERTIFICATE REQUEST' block");
  }
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(pem);
  } catch (e) {
    throw new CsrError(`csr does not parse: ${(e as Error).message}`);
  }
  const key = csr.publicKey as forge.pki.rsa.PublicKey;
  let publicKey: KeyObject | undefined;
  let valid = false;
  try {
    publicKey = createPublicKey({ key: Buffer.from(forge.asn1.toDer(forge.pki.publicKeyToAsn1(key)).getBytes(), "binary"), format: "der", type: "spki" });
    valid = verifyNatively(csr, publicKey) ?? csr.verify();
  } catch {
    valid = false;
  }
  if (!valid || !publicKey) throw new CsrError("csr signature does not verify against its own public key");
  const cn = csr.subject.getField("CN");
  if (!cn || typeof cn.value !== "string" || cn.value.length === 0) throw new CsrError("csr subject has no CN");
  return { commonName: cn.value, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), keyBits: publicKey.asymmetricKeyDetails?.modulusLength ?? key.n.bitLength() };
}

/** PKCS#1 v1.5 signature algorithms checked with Node's crypto (forge's own check is JavaScript big-number arithmetic, several ms a CSR). */
const NATIVE_HASH: Readonly<Record<string, string>> = {
  [forge.pki.oids.sha1WithRSAEncryption]: "sha1",
  [forge.pki.oids.sha256WithRSAEncryption]: "sha256",
  [forge.pki.oids.sha384WithRSAEncryption]: "sha384",
  [forge.pki.oids.sha512WithRSAEncryption]: "sha512",
};

/**
 * The same check as forge's `csr.verify()` — the signature over the DER of the
 * certificationRequestInfo, against the CSR's own key — done natively; undefined for an algorithm
 * left to forge (e.g. RSASSA-PSS).
 */
function verifyNatively(csr: forge.pki.CertificateSigningRequest, publicKey: KeyObject): boolean | undefined {
  const c = csr as forge.pki.CertificateSigningRequest & { certificationRequestInfo?: forge.asn1.Asn1; signatureOid: string; signature: string };
  const hash = NATIVE_HASH[c.signatureOid];
  if (!hash || !c.certificationRequestInfo) return undefined;
  const info = Buffer.from(forge.asn1.toDer(c.certificationRequestInfo).getBytes(), "binary");
  return cryptoVerify(hash, info, publicKey, Buffer.from(c.signature, "binary"));
}
