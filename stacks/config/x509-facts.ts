import type { KeyObject } from "node:crypto";

/** Facts about keys and key files for the config checks (the X.509 version and AWS's mTLS key rule live in core/x509.ts). */

/** A subject or issuer as one line (Node separates RDNs with newlines). */
export function oneLine(name: string): string {
  return name.replace(/\n/g, ",");
}

/** A key's algorithm and size in words, e.g. `RSA 2048`, `ECDSA P-256`, `Ed25519`. */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
      return `RSA ${details.modulusLength}`;
    case "rsa-pss":
      return `RSA-PSS ${details.modulusLength}`;
    case "ec":
      return `ECDSA ${CURVE_NAMES[details.namedCurve ?? ""] ?? details.namedCurve}`;
    case "ed25519":
      return "Ed25519";
    case "ed448":
      return "Ed448";
    default:
      return (key.asymmetricKeyType ?? "unknown").toUpperCase();
  }
}

const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

/**
 * Keys ACM imports (ACM user guide, "Prerequisites for importing ACM certificates": RSA 1024, 2048,
 * 3072, 4096; ECDSA P-256, P-384, P-521), all of which an Application Load Balancer serves (same page).
 */
export const ACM_KEYS: readonly string[] = ["RSA 1024", "RSA 2048", "RSA 3072", "RSA 4096", "ECDSA P-256", "ECDSA P-384", "ECDSA P-521"];

/** What a binary file that should have been a PEM key most likely is, if we can tell. */
export function binaryKeystoreKind(bytes: Buffer): "PKCS#12" | "JKS" | "DER" | undefined {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0xfeedfeed) return "JKS";
  if (bytes[0] !== 0x30) return undefined;
  // PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo (pkcs7-data) ... } (RFC 7292)
  const lengthBytes = bytes[1] < 0x80 ? 0 : bytes[1] & 0x7f;
  const version = 2 + lengthBytes;
  const pkcs7Data = Buffer.from("06092a864886f70d010701", "hex");
  if (bytes[version] === 0x02 && bytes[version + 1] === 0x01 && bytes[version + 2] === 0x03 && bytes.subarray(0, 64).includes(pkcs7Data)) return "PKCS#12";
  return "DER";
}
