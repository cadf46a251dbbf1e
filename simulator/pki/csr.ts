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
  let valid = false;
  try {
    valid = csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw new CsrError("csr signature does not verify against its own public key");
  const cn = csr.subject.getField("CN");
  if (!cn || typeof cn.value !== "string" || cn.value.length === 0) throw new CsrError("csr subject has no CN");
  const key = csr.publicKey as forge.pki.rsa.PublicKey;
  return { commonName: cn.value, publicKeyPem: forge.pki.publicKeyToPem(key), keyBits: key.n.bitLength() };
}
