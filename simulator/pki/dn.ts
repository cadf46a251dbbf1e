import type { X509Certificate } from "node:crypto";

/**
 * A distinguished name as an RFC 2253 string (most specific RDN first, comma separated), the form
 * AWS uses in X-Amzn-Mtls-Clientcert-Subject/-Issuer. Node prints names one RDN per line, already
 * escaped per RFC 2253, in certificate order.
 */
export function rfc2253(nodeName: string): string {
  return nodeName.split("\n").filter(Boolean).reverse().join(",");
}

export function subjectRfc2253(cert: X509Certificate): string {
  return rfc2253(cert.subject);
}

export function issuerRfc2253(cert: X509Certificate): string {
  return rfc2253(cert.issuer);
}

/** The CN of a certificate's subject, or undefined. */
export function commonName(cert: X509Certificate): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
}
