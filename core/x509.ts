import type { KeyObject, X509Certificate } from "node:crypto";

/** Facts about certificates and keys that Node's X509Certificate does not state directly (stacks and simulator both read them). */

/** The X.509 version (1, 2 or 3) read from the DER: Node's X509Certificate does not expose it. */
export function x509Version(cert: X509Certificate): number {
  const der = cert.raw;
  // Certificate SEQUENCE → TBSCertificate SEQUENCE → optional [0] EXPLICIT INTEGER version.
  let offset = 0;
  const skipHeader = () => {
    offset++; // tag
    const first = der[offset++];
    if (first & 0x80) offset += first & 0x7f;
  };
  skipHeader(); // Certificate
  skipHeader(); // TBSCertificate
  if (der[offset] !== 0xa0) return 1;
  skipHeader(); // [0]
  skipHeader(); // INTEGER
  return der[offset] + 1;
}

const AWS_MTLS_CURVES = new Set(["prime256v1", "secp384r1", "secp521r1"]);

/**
 * Keys an ALB accepts in mutual TLS verify mode, for client certificates and the trust store's CAs
 * alike (ELB user guide, "Mutual authentication with TLS in Application Load Balancer" > "Before you
 * begin": RSA 2K-8K bits, ECDSA secp256r1, secp384r1, secp521r1).
 */
export function isAwsMtlsKey(key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "rsa") {
    const bits = details.modulusLength ?? 0;
    return bits >= 2048 && bits <= 8192;
  }
  return key.asymmetricKeyType === "ec" && AWS_MTLS_CURVES.has(details.namedCurve ?? "");
}
