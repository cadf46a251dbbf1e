import { sign as cryptoSign } from "node:crypto";
import forge from "node-forge";
import { privateKeyObject } from "./keys";

/*
 * node-forge builds the ASN.1 structures (it is the only dependency-free builder of X.509 and CSRs
 * in JavaScript) but signs in pure JavaScript, ~30 ms a signature. We let forge build the
 * to-be-signed bytes and sign them natively with Node's crypto (~1 ms), then hand the signature
 * back to forge for the final encoding. Same bytes as forge's own sign(): sha256WithRSAEncryption, or
 * sha1WithRSAEncryption for a test certificate that must be refused.
 */

const SHA256_WITH_RSA = forge.pki.oids.sha256WithRSAEncryption;
/** Certificate signature algorithms by digest (SHA-1 only for test certificates AWS must refuse). */
const WITH_RSA = { sha256: SHA256_WITH_RSA, sha1: forge.pki.oids.sha1WithRSAEncryption } as const;

/** forge's builders of the to-be-signed structures; public in forge, missing from its typings. */
const forgeBuilders = forge.pki as unknown as {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
  getCertificationRequestInfo(csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1;
};

function signDer(derBytes: string, privateKeyPem: string, hash: keyof typeof WITH_RSA = "sha256"): string {
  const signature = cryptoSign(hash, Buffer.from(derBytes, "binary"), privateKeyObject(privateKeyPem));
  return signature.toString("binary");
}

export function signCertificate(cert: forge.pki.Certificate, issuerPrivateKeyPem: string, hash: keyof typeof WITH_RSA = "sha256"): void {
  const c = cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1; md: forge.md.MessageDigest };
  c.md = forge.md[hash].create();
  c.signatureOid = c.siginfo.algorithmOid = WITH_RSA[hash];
  c.tbsCertificate = forgeBuilders.getTBSCertificate(c);
  c.signature = signDer(forge.asn1.toDer(c.tbsCertificate).getBytes(), issuerPrivateKeyPem, hash);
}

export function signCertificationRequest(csr: forge.pki.CertificateSigningRequest, privateKeyPem: string): void {
  const r = csr as forge.pki.CertificateSigningRequest & {
    certificationRequestInfo: forge.asn1.Asn1;
    md: forge.md.MessageDigest;
    siginfo: { algorithmOid: string };
  };
  r.md = forge.md.sha256.create();
  r.signatureOid = r.siginfo.algorithmOid = SHA256_WITH_RSA;
  r.certificationRequestInfo = forgeBuilders.getCertificationRequestInfo(r);
  r.signature = signDer(forge.asn1.toDer(r.certificationRequestInfo).getBytes(), privateKeyPem);
}

export function signBytes(derBytes: Buffer, privateKeyPem: string): Buffer {
  return cryptoSign("sha256", derBytes, privateKeyObject(privateKeyPem));
}
