import type { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ChainVerifier, commonName } from "../pki";
import type { ClientCertForwarding } from "../protocol/app-config";
import { readClientChain, IdentitySource } from "../protocol/client-cert-source";

/**
 * The ICG's own check of a device certificate (design section 2: untrusted, expired or revoked →
 * refused by the ICG): read from the TLS peer, or from the forwarded header behind an ALB, and
 * verified against the device CA chain and CRL the UMS handed over when it registered — the same
 * checks the UMS makes (chain, validity, revocation), so the two never disagree about a device.
 */

export type DeviceIdentity =
  | {
      readonly ok: true;
      readonly source: IdentitySource;
      readonly unitId: string;
      /** As presented or forwarded, leaf first: what the ICG passes on for the UMS to verify again. */
      readonly chain: readonly X509Certificate[];
    }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 431;
      readonly error: string;
      readonly reason: string;
      /** The CN of a certificate that was read but refused (for logs; not an identity). */
      readonly claimedUnitId?: string;
    };

export function identifyDevice(req: IncomingMessage, forwarding: ClientCertForwarding, deviceTrust: ChainVerifier): DeviceIdentity {
  const read = readClientChain(req, forwarding, "ICG");
  if (!read.ok) return read;
  const leaf = read.chain[0];
  const verdict = deviceTrust.verify(read.chain);
  if (!verdict.ok) {
    return {
      ok: false,
      status: 401,
      error: `certificate-${verdict.reason}`,
      reason: `${read.what} refused by the ICG (${verdict.reason}): ${verdict.detail}`,
      claimedUnitId: commonName(leaf),
    };
  }
  const unitId = commonName(leaf);
  if (!unitId) return { ok: false, status: 401, error: "certificate-no-unit-id", reason: `${read.what} has no CN, so it names no device` };
  return { ok: true, source: read.source, unitId, chain: read.chain };
}
