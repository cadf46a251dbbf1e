import type { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { ChainVerifier, commonName, describe } from "../pki";
import { peerChain } from "../common/client-cert-source";

/**
 * May this connection become the UMS tunnel? The UMS authenticates with its client certificate in
 * the TLS handshake — always the TLS peer, also when devices reach the ICG through an ALB, because
 * the UMS connects to the ICG directly from the private side — and that certificate must chain to
 * the CA the ICG trusts for its UMS (the UMS web root) and be meant for client authentication.
 */

/** id-kp-clientAuth */
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

export type UmsAdmission =
  | { readonly ok: true; readonly name: string; readonly leaf: X509Certificate }
  | { readonly ok: false; readonly status: 401 | 403; readonly error: string; readonly reason: string; readonly claimed?: string };

export function admitUms(req: IncomingMessage, trust: ChainVerifier, trustName: string): UmsAdmission {
  const socket = req.socket as TLSSocket;
  const chain = typeof socket.getPeerCertificate === "function" ? peerChain(socket) : [];
  if (chain.length === 0) {
    return {
      ok: false,
      status: 401,
      error: "no-client-certificate",
      reason: `the UMS tunnel needs the UMS's client certificate in the TLS handshake (issued by ${trustName}); none was presented`,
    };
  }
  const leaf = chain[0];
  const verdict = trust.verify(chain);
  if (!verdict.ok) {
    return {
      ok: false,
      status: 401,
      error: `ums-certificate-${verdict.reason}`,
      reason: `the client certificate is not one the ICG accepts from a UMS (${verdict.reason}): ${verdict.detail}; a UMS must present a certificate issued by ${trustName}`,
      claimed: commonName(leaf),
    };
  }
  // No extendedKeyUsage at all means "any use" (RFC 5280); a list without clientAuth does not.
  const eku = leaf.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH)) {
    return {
      ok: false,
      status: 403,
      error: "ums-certificate-not-for-client-auth",
      reason: `${describe(leaf)} is not a client certificate (its extended key usage lacks clientAuth), so it cannot identify a UMS`,
      claimed: commonName(leaf),
    };
  }
  return { ok: true, name: commonName(leaf) ?? leaf.subject.replace(/\n/g, ","), leaf };
}
