import type { X509Certificate } from "node:crypto";

/**
 * Puts an "entire chain" export in the order ACM wants: ACM user guide, "Troubleshoot certificate
 * import problems": each certificate in the chain must directly certify the one preceding, and the
 * end-entity certificate is not part of the intermediate chain.
 */
export interface OrderedChain {
  /** The path from the leaf's issuer upwards, as far as the file goes (the ACM `certificate_chain`). */
  readonly intermediates: readonly X509Certificate[];
  /** The file's certificates were not in leaf-to-root order. */
  readonly reordered: boolean;
  /** The last certificate of the path is issued by a certificate the file does not hold, while other certificates of the file are left over. */
  readonly missingIssuerOf?: X509Certificate;
  /** Certificates of the file that are not on the leaf's path (unrelated, or above a gap). */
  readonly strays: readonly X509Certificate[];
}

function issues(issuer: X509Certificate, cert: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function selfIssued(cert: X509Certificate): boolean {
  return issues(cert, cert);
}

/** Orders `certs` (the chain file's certificates, the leaf among them or not) from `leaf` upwards. */
export function orderChain(leaf: X509Certificate, certs: readonly X509Certificate[]): OrderedChain {
  const others = certs.filter((c, i) => c.fingerprint256 !== leaf.fingerprint256 && certs.findIndex((d) => d.fingerprint256 === c.fingerprint256) === i);
  const path: X509Certificate[] = [];
  let current = leaf;
  while (!selfIssued(current)) {
    const issuer = others.find((c) => !path.includes(c) && issues(c, current));
    if (!issuer) break;
    path.push(issuer);
    current = issuer;
  }
  const strays = others.filter((c) => !path.includes(c));
  const fileOrder = certs.filter((c) => c.fingerprint256 !== leaf.fingerprint256).map((c) => c.fingerprint256);
  const leafFirst = certs.length === 0 || certs[0].fingerprint256 === leaf.fingerprint256 || !certs.some((c) => c.fingerprint256 === leaf.fingerprint256);
  const reordered = !leafFirst || path.some((c, i) => fileOrder[i] !== c.fingerprint256);
  return { intermediates: path, reordered, strays, missingIssuerOf: strays.length > 0 && !selfIssued(current) ? current : undefined };
}
