import type { IncomingMessage } from "node:http";
import type { ChainVerifier } from "../pki";
import type { ClientCertForwarding } from "../../core/ums-app-config";
import { readClientChain, verifyDeviceChain, VerifiedDevice, ClientChainRefusal } from "../common/client-cert-source";
import { ICG_CHAIN_POLICY } from "./chain-policy";

/**
 * The ICG's own check of a device certificate (design section 2: untrusted, expired or revoked →
 * refused by the ICG): read from the TLS peer, or from the forwarded header behind an ALB, and
 * verified against the device CA chain and CRL the UMS handed over when it registered, under the
 * ICG's own policy (ICG_CHAIN_POLICY: the same checks the UMS makes today).
 */

export type DeviceIdentity = VerifiedDevice | ClientChainRefusal;

export function identifyDevice(req: IncomingMessage, forwarding: ClientCertForwarding, deviceTrust: ChainVerifier): DeviceIdentity {
  const read = readClientChain(req, forwarding, "ICG");
  return read.ok ? verifyDeviceChain(read.chain, read.source, read.what, deviceTrust, ICG_CHAIN_POLICY, "the ICG") : read;
}
