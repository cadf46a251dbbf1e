import type { X509Certificate } from "node:crypto";
import { issuerRfc2253, subjectRfc2253 } from "../pki/dn";

/** What a person checks on a certificate before deploying it, in JSON-friendly form. */
export interface CertificateSummary {
  /** RFC 2253, most specific first: `CN=ums.example.com,O=Example`. */
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days from the plan's time to notAfter; negative once expired. */
  readonly daysLeft: number;
  /** `RSA 2048`, `EC P-256`, `Ed25519`. */
  readonly keyType: string;
  /** `DNS:ums.example.com`, `IP Address:192.0.2.1`; empty when the certificate has none. */
  readonly subjectAltNames: readonly string[];
  readonly ca: boolean;
}

const DAY_MS = 86_400_000;
const CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

export function keyTypeOf(cert: X509Certificate): string {
  const key = cert.publicKey;
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return `RSA ${d.modulusLength ?? "?"}`;
    case "ec":
      return `EC ${CURVES[d.namedCurve ?? ""] ?? d.namedCurve ?? "?"}`;
    case "ed25519":
      return "Ed25519";
    case "ed448":
      return "Ed448";
    default:
      return key.asymmetricKeyType ?? "unknown";
  }
}

/** Node prints the extension as `DNS:a, DNS:b, IP Address:1.2.3.4`. */
export function subjectAltNamesOf(cert: X509Certificate): string[] {
  return cert.subjectAltName ? cert.subjectAltName.split(/, (?=[A-Za-z][A-Za-z ]*:)/) : [];
}

export function daysLeft(cert: X509Certificate, now: Date): number {
  return Math.floor((Date.parse(cert.validTo) - now.getTime()) / DAY_MS);
}

export function summariseCertificate(cert: X509Certificate, now: Date): CertificateSummary {
  return {
    subject: subjectRfc2253(cert),
    issuer: issuerRfc2253(cert),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    daysLeft: daysLeft(cert, now),
    keyType: keyTypeOf(cert),
    subjectAltNames: subjectAltNamesOf(cert),
    ca: cert.ca,
  };
}
