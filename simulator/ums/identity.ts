import type { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { ChainVerifier } from "../pki";
import { readClientChain, verifyDeviceChain, IdentitySource, ClientChainRefusal } from "../common/client-cert-source";
import type { ClientCertForwarding } from "../../core/ums-app-config";
import type { RevokedCertificates } from "./revoked-certificates";
import { UMS_CHAIN_POLICY } from "./chain-policy";

/**
 * Who is this request from? Exactly one source, chosen by application.yml: the configured forwarded
 * header when client-cert forwarding is enabled, the TLS peer certificate when it is not — never
 * both (reading is shared with the ICG: simulator/common/client-cert-source.ts). The chain is
 * verified the way a UMS does it (UMS_CHAIN_POLICY), without the ALB's extra rules (depth 4, key
 * types, X.509 v3, digests, purpose): a device refused by an ALB in verify mode may well be
 * accepted here, which is a finding the report shows.
 */

export { peerChain } from "../common/client-cert-source";
export type { IdentitySource } from "../common/client-cert-source";

export type IdentityResult =
  | {
      readonly ok: true;
      readonly source: IdentitySource;
      /** The certificate's CN: the device's unit id. */
      readonly unitId: string;
      readonly leaf: X509Certificate;
      /** The verified path, leaf to trust anchor. */
      readonly path: readonly X509Certificate[];
    }
  | ClientChainRefusal;

export class IdentityResolver {
  constructor(
    private readonly forwarding: ClientCertForwarding,
    private verifier: ChainVerifier,
    /** Certificates the UMS revoked itself (re-enrolled devices), besides the CRL. @default none */
    private readonly revoked?: RevokedCertificates,
  ) {}

  /** The device CA chain or CRL changed: connections from now on are judged by `next`. */
  useVerifier(next: ChainVerifier): void {
    this.verifier = next;
  }

  get source(): IdentitySource {
    return this.forwarding.enabled ? "forwarded-header" : "tls-peer";
  }

  resolve(req: IncomingMessage): Promise<IdentityResult> {
    const read = readClientChain(req, this.forwarding, "UMS");
    return read.ok ? this.verify(read.chain, read.source, read.what) : Promise.resolve(read);
  }

  /** Verifies a chain read elsewhere (a device relayed by an ICG, which passes the chain it verified). */
  async verify(chain: readonly X509Certificate[], source: IdentitySource, what: string): Promise<IdentityResult> {
    const v = verifyDeviceChain(chain, source, what, this.verifier, UMS_CHAIN_POLICY);
    if (!v.ok) return v;
    const revoked = await this.revoked?.reason(v.chain[0].serialNumber);
    if (revoked !== undefined) {
      return { ok: false, source, status: 401, error: "certificate-revoked", reason: `${what} (serial ${v.chain[0].serialNumber}) was revoked by the UMS: ${revoked}`, claimedUnitId: v.unitId };
    }
    return { ok: true, source, unitId: v.unitId, leaf: v.chain[0], path: v.path };
  }
}
