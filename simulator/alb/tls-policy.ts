import type { SecureVersion } from "node:tls";

/**
 * ELB security policies of Application Load Balancers as data: the protocols and ciphers each
 * offers, in the load balancer's order of preference (ELB user guide, "Security policies for your
 * Application Load Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html:
 * the "TLS 1.3 security policies", "FS supported policies" and "TLS security policies" tables,
 * read from the guide's published source, awsdocs/elb-application-load-balancers-user-guide,
 * doc_source/create-https-listener.md; rows in the table's order, which is the priority order
 * `aws elbv2 describe-ssl-policies` gives). The same page: "By default, the first cipher on the
 * server's list that matches any one of the client's ciphers is selected" (server preference), and
 * "Application Load Balancers support SSL renegotiation for target connections only".
 */

export type TlsProtocol = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

export interface SecurityPolicy {
  readonly name: string;
  readonly protocols: readonly TlsProtocol[];
  /** OpenSSL names, in preference order: TLS 1.3 suites (TLS_*) first, then TLS 1.0-1.2 ciphers. */
  readonly ciphers: readonly string[];
  /**
   * Set when the table entry is not read from AWS's page but derived from a documented policy (the
   * 2025-09 post-quantum policies: the page's considerations describe them, the emulator offers the
   * ciphers of their 2021-06 namesake; scenarios/assumptions.ts "pq-policies").
   */
  readonly derivedFrom?: string;
}

const TLS13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"] as const;

/** Every TLS 1.0-1.2 cipher of the tables, in the tables' row order. */
const ROWS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES128-SHA256",
  "ECDHE-RSA-AES128-SHA256",
  "ECDHE-ECDSA-AES128-SHA",
  "ECDHE-RSA-AES128-SHA",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES256-SHA384",
  "ECDHE-RSA-AES256-SHA384",
  "ECDHE-RSA-AES256-SHA",
  "ECDHE-ECDSA-AES256-SHA",
  "AES128-GCM-SHA256",
  "AES128-SHA256",
  "AES128-SHA",
  "AES256-GCM-SHA384",
  "AES256-SHA256",
  "AES256-SHA",
  "DES-CBC3-SHA",
] as const;
type Row = (typeof ROWS)[number];

/** The rows a policy ticks, kept in table order. */
function ticked(rows: readonly Row[]): string[] {
  return ROWS.filter((r) => rows.includes(r));
}

const ECDHE_GCM: readonly Row[] = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"];
const ECDHE_SHA2: readonly Row[] = ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384"];
const ECDHE_SHA1: readonly Row[] = ["ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES256-SHA"];
const RSA_SHA2: readonly Row[] = ["AES128-GCM-SHA256", "AES128-SHA256", "AES256-GCM-SHA384", "AES256-SHA256"];
/** ELBSecurityPolicy-2016-08: every row but DES-CBC3-SHA. */
const ALL_BUT_3DES: readonly Row[] = ROWS.filter((r) => r !== "DES-CBC3-SHA");

const V10_13: readonly TlsProtocol[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const V11_13: readonly TlsProtocol[] = ["TLSv1.1", "TLSv1.2", "TLSv1.3"];
const V12_13: readonly TlsProtocol[] = ["TLSv1.2", "TLSv1.3"];
const V10_12: readonly TlsProtocol[] = ["TLSv1", "TLSv1.1", "TLSv1.2"];
const V11_12: readonly TlsProtocol[] = ["TLSv1.1", "TLSv1.2"];
const V12: readonly TlsProtocol[] = ["TLSv1.2"];

function policy(name: string, protocols: readonly TlsProtocol[], rows: readonly Row[]): SecurityPolicy {
  return { name: `ELBSecurityPolicy-${name}`, protocols, ciphers: [...(protocols.includes("TLSv1.3") ? TLS13 : []), ...ticked(rows)] };
}

const DOCUMENTED: readonly SecurityPolicy[] = [
  // TLS 1.3 security policies
  policy("TLS13-1-2-2021-06", V12_13, [...ECDHE_GCM, ...ECDHE_SHA2]),
  policy("TLS13-1-3-2021-06", ["TLSv1.3"], []),
  policy("TLS13-1-2-Res-2021-06", V12_13, ECDHE_GCM),
  policy("TLS13-1-2-Ext2-2021-06", V12_13, ALL_BUT_3DES),
  policy("TLS13-1-2-Ext1-2021-06", V12_13, [...ECDHE_GCM, ...ECDHE_SHA2, ...RSA_SHA2]),
  policy("TLS13-1-1-2021-06", V11_13, ALL_BUT_3DES),
  policy("TLS13-1-0-2021-06", V10_13, ALL_BUT_3DES),
  // FS supported policies
  policy("2016-08", V10_12, ALL_BUT_3DES),
  policy("FS-1-2-Res-2020-10", V12, ECDHE_GCM),
  policy("FS-1-2-Res-2019-08", V12, [...ECDHE_GCM, ...ECDHE_SHA2]),
  policy("FS-1-2-2019-08", V12, [...ECDHE_GCM, ...ECDHE_SHA2, ...ECDHE_SHA1]),
  policy("FS-1-1-2019-08", V11_12, [...ECDHE_GCM, ...ECDHE_SHA2, ...ECDHE_SHA1]),
  policy("FS-2018-06", V10_12, [...ECDHE_GCM, ...ECDHE_SHA2, ...ECDHE_SHA1]),
  // TLS security policies
  policy("TLS-1-2-Ext-2018-06", V12, ALL_BUT_3DES),
  policy("TLS-1-2-2017-01", V12, [...ECDHE_GCM, ...ECDHE_SHA2, ...RSA_SHA2]),
  policy("TLS-1-1-2017-01", V11_12, ALL_BUT_3DES),
  policy("TLS-1-0-2015-04", V10_12, ROWS),
  // "ELBSecurityPolicy-2015-05 (identical to ELBSecurityPolicy-2016-08)"
  policy("2015-05", V10_12, ALL_BUT_3DES),
];

/** The 2025-09 post-quantum policies named after a documented 2021-06 one. */
const PQ_NAMESAKES = ["TLS13-1-2", "TLS13-1-2-Res", "TLS13-1-2-Ext1", "TLS13-1-2-Ext2", "TLS13-1-3"];
const DERIVED: readonly SecurityPolicy[] = PQ_NAMESAKES.map((base) => {
  const from = DOCUMENTED.find((p) => p.name === `ELBSecurityPolicy-${base}-2021-06`)!;
  return { ...from, name: `ELBSecurityPolicy-${base}-PQ-2025-09`, derivedFrom: from.name };
});

export const SECURITY_POLICIES: ReadonlyMap<string, SecurityPolicy> = new Map([...DOCUMENTED, ...DERIVED].map((p) => [p.name, p]));

/** A policy the emulator can offer, or undefined. */
export function securityPolicy(name: string): SecurityPolicy | undefined {
  return SECURITY_POLICIES.get(name);
}

export const KNOWN_POLICY_EXAMPLES = ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-2016-08"];

/**
 * Key exchange groups offered, in preference order (OpenSSL name, IANA code point). AWS lists
 * groups only for its PQ policies (hybrid ML-KEM, which Node's OpenSSL 3.0 lacks); for the others
 * the emulator offers X25519, P-256 and P-384 (scenarios/assumptions.ts "tls-groups").
 */
export const KEY_EXCHANGE_GROUPS: readonly { readonly openssl: string; readonly code: number }[] = [
  { openssl: "X25519", code: 29 },
  { openssl: "P-256", code: 23 },
  { openssl: "P-384", code: 24 },
];

/** Node's TLS server options for a policy: exactly its protocols and ciphers, the server's order first. */
export interface PolicyTlsOptions {
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** OpenSSL cipher string (TLS 1.3 suites included, which Node hands to SSL_CTX_set_ciphersuites). */
  readonly ciphers: string;
  readonly honorCipherOrder: true;
  readonly ecdhCurve: string;
}

const ORDER: readonly TlsProtocol[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

export function tlsOptionsOf(p: SecurityPolicy): PolicyTlsOptions {
  const versions = ORDER.filter((v) => p.protocols.includes(v));
  // OpenSSL 3 allows TLS 1.0/1.1 (and their SHA-1 signatures) only at security level 0.
  const legacy = versions[0] === "TLSv1" || versions[0] === "TLSv1.1";
  return {
    minVersion: versions[0],
    maxVersion: versions[versions.length - 1],
    ciphers: `${p.ciphers.join(":")}${legacy ? ":@SECLEVEL=0" : ""}`,
    honorCipherOrder: true,
    ecdhCurve: KEY_EXCHANGE_GROUPS.map((g) => g.openssl).join(":"),
  };
}
