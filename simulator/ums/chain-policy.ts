import type { VerifyPolicy } from "../pki/chain-verify";

/**
 * What the mock UMS checks of a device certificate, wherever it reads it from (TLS peer or
 * forwarded header): what a Java PKIX validation checks (the UMS is a Java server) — the chain to
 * the device CA, every issuer a CA (basicConstraints, keyCertSign), validity, revocation. Not AWS's
 * extra rules: no depth limit, any key size and X.509 version, any signature digest (SHA-1
 * included: the JDK refuses it only for chains to its own public roots), and no extendedKeyUsage
 * check. IGEL does not document its checks; the report lists this as an assumption
 * (scenarios/assumptions.ts, "ums-forwarded-checks").
 */
export const UMS_CHAIN_POLICY: VerifyPolicy = {
  issuersMustBeCa: true,
  clientAuthPurpose: false,
  signatureAlgorithms: "any",
  keyPolicy: "any",
  requireV3: false,
};
