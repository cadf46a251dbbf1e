import type { VerifyPolicy } from "../pki/chain-verify";

/**
 * What the ICG checks of a device certificate, against the device CA chain and CRL the UMS handed
 * over: like the UMS (both are IGEL's Java servers), a PKIX validation — chain, issuers that are
 * CAs, validity, revocation — without AWS's limits on depth, keys, versions, digests or purpose.
 * Configured here, apart from the UMS's, so the two can be told apart when IGEL documents either.
 */
export const ICG_CHAIN_POLICY: VerifyPolicy = {
  issuersMustBeCa: true,
  clientAuthPurpose: false,
  signatureAlgorithms: "any",
  keyPolicy: "any",
  requireV3: false,
};
