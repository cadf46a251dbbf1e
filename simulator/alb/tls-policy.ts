import type { SecureVersion } from "node:tls";

/**
 * TLS protocol versions of ELB security policies (ELB user guide, "Security policies for your
 * Application Load Balancer"). Only versions are emulated; cipher lists are OpenSSL's defaults
 * for those versions.
 */
export interface TlsVersions {
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
}

const V10_12: TlsVersions = { minVersion: "TLSv1", maxVersion: "TLSv1.2" };
const V11_12: TlsVersions = { minVersion: "TLSv1.1", maxVersion: "TLSv1.2" };
const V12: TlsVersions = { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" };

/** Policies whose names do not say their versions. */
const NAMED: Readonly<Record<string, TlsVersions>> = {
  "ELBSecurityPolicy-2016-08": V10_12,
  "ELBSecurityPolicy-2015-05": V10_12,
  "ELBSecurityPolicy-TLS-1-0-2015-04": V10_12,
  "ELBSecurityPolicy-FS-2018-06": V10_12,
  "ELBSecurityPolicy-TLS-1-1-2017-01": V11_12,
  "ELBSecurityPolicy-FS-1-1-2019-08": V11_12,
  "ELBSecurityPolicy-TLS-1-2-2017-01": V12,
  "ELBSecurityPolicy-TLS-1-2-Ext-2018-06": V12,
  "ELBSecurityPolicy-FS-1-2-2019-08": V12,
  "ELBSecurityPolicy-FS-1-2-Res-2019-08": V12,
  "ELBSecurityPolicy-FS-1-2-Res-2020-10": V12,
};

const MINOR: Readonly<Record<string, SecureVersion>> = { "0": "TLSv1", "1": "TLSv1.1", "2": "TLSv1.2", "3": "TLSv1.3" };

/** Versions of a policy name, or undefined if it is not one the emulator knows. */
export function tlsVersionsOf(policy: string): TlsVersions | undefined {
  // The TLS 1.3 family says its lowest version: ELBSecurityPolicy-TLS13-1-2-2021-06, -TLS13-1-3-PQ-2025-09, ...
  const tls13 = /^ELBSecurityPolicy-TLS13-1-([0-3])-/.exec(policy);
  if (tls13) return { minVersion: MINOR[tls13[1]], maxVersion: "TLSv1.3" };
  return NAMED[policy];
}

export const KNOWN_POLICY_EXAMPLES = ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-2016-08"];
