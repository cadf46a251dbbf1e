import { randomBytes } from "node:crypto";
import forge from "node-forge";
import { signCertificate } from "./native-sign";

export interface DistinguishedName {
  readonly commonName: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
  readonly country?: string;
}

export interface Issuer {
  /** The issuer's certificate PEM; absent for a self-signed certificate. */
  readonly certificatePem?: string;
  readonly privateKeyPem: string;
}

export interface CertificateRequest {
  readonly subject: DistinguishedName;
  readonly publicKeyPem: string;
  /** Who signs it; for a self-signed certificate, the subject's own private key without a certificate. */
  readonly issuer: Issuer;
  /** @default now minus five minutes (clock skew) */
  readonly notBefore?: Date;
  /** @default notBefore plus `validityDays` */
  readonly notAfter?: Date;
  /** @default 365 */
  readonly validityDays?: number;
  /** 'ca' adds basicConstraints cA and keyCertSign/cRLSign; 'client' and 'server' add the matching EKU. */
  readonly profile: "ca" | "client" | "server" | "server-and-client";
  /** Subject alternative names for server certificates: DNS names and IP addresses. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** X.509 version: 3 (default) or 1 (no extensions; a bad certificate AWS refuses). */
  readonly version?: 1 | 3;
  /** Serial number in hex; @default 16 random bytes, positive */
  readonly serialHex?: string;
}

export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // positive INTEGER
  bytes[0] |= 0x01; // no leading zero byte, so hex form is stable
  return bytes.toString("hex");
}

function dnAttributes(dn: DistinguishedName): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [];
  if (dn.country) attrs.push({ shortName: "C", value: dn.country });
  if (dn.organization) attrs.push({ shortName: "O", value: dn.organization });
  if (dn.organizationalUnit) attrs.push({ shortName: "OU", value: dn.organizationalUnit });
  attrs.push({ shortName: "CN", value: dn.commonName });
  return attrs;
}

/** SHA-1 of the RSAPublicKey, as forge and OpenSSL compute a subject key identifier. */
function keyIdentifier(publicKey: forge.pki.PublicKey): string {
  return forge.pki.getPublicKeyFingerprint(publicKey as forge.pki.rsa.PublicKey, { type: "RSAPublicKey" }).getBytes();
}

function extensionsFor(req: CertificateRequest, subjectKey: forge.pki.PublicKey, issuerKey: forge.pki.PublicKey): object[] {
  const ext: object[] = [];
  if (req.profile === "ca") {
    ext.push({ name: "basicConstraints", cA: true, critical: true });
    ext.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
  } else {
    ext.push({ name: "basicConstraints", cA: false });
    ext.push({ name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true });
    ext.push({
      name: "extKeyUsage",
      serverAuth: req.profile === "server" || req.profile === "server-and-client",
      clientAuth: req.profile === "client" || req.profile === "server-and-client",
    });
  }
  const altNames = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) ext.push({ name: "subjectAltName", altNames });
  ext.push({ name: "subjectKeyIdentifier", subjectKeyIdentifier: forge.util.bytesToHex(keyIdentifier(subjectKey)) });
  ext.push({ name: "authorityKeyIdentifier", keyIdentifier: keyIdentifier(issuerKey) });
  return ext;
}

/** Issuer certificates parsed once: a CA issues many certificates (a UMS onboarding a fleet). */
const issuers = new Map<string, forge.pki.Certificate>();
function parsedIssuer(pem: string): forge.pki.Certificate {
  let cert = issuers.get(pem);
  if (!cert) {
    cert = forge.pki.certificateFromPem(pem);
    if (issuers.size >= 64) issuers.clear();
    issuers.set(pem, cert);
  }
  return cert;
}

/** Builds and natively signs one certificate; returns its PEM. */
export function issueCertificate(req: CertificateRequest): string {
  const cert = forge.pki.createCertificate();
  const subjectKey = forge.pki.publicKeyFromPem(req.publicKeyPem);
  cert.publicKey = subjectKey as forge.pki.rsa.PublicKey;
  cert.serialNumber = req.serialHex ?? randomSerialHex();
  const notBefore = req.notBefore ?? new Date(Date.now() - 5 * 60_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = req.notAfter ?? new Date(notBefore.getTime() + (req.validityDays ?? 365) * 86_400_000);
  const subject = dnAttributes(req.subject);
  cert.setSubject(subject);
  let issuerKey: forge.pki.PublicKey = subjectKey;
  if (req.issuer.certificatePem) {
    const issuerCert = parsedIssuer(req.issuer.certificatePem);
    cert.setIssuer(issuerCert.subject.attributes);
    issuerKey = issuerCert.publicKey;
  } else {
    cert.setIssuer(subject);
  }
  if ((req.version ?? 3) === 1) {
    cert.version = 0;
  } else {
    cert.setExtensions(extensionsFor(req, subjectKey, issuerKey));
  }
  signCertificate(cert, req.issuer.privateKeyPem);
  return forge.pki.certificateToPem(cert);
}
