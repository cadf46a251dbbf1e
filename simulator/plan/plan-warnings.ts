import type { X509Certificate } from "node:crypto";
import type { ParsedCrl } from "../../core/crl-reader";
import { subjectRfc2253 } from "../pki/dn";
import { daysLeft } from "./certificate-summary";

/**
 * The mistakes a person wants pointed out before deploying a stack, found in the certificates the
 * stack will upload: what is about to expire, a web certificate clients cannot match by name, the
 * web CA given as the device CA, a CRL past its next update. Warnings, not errors: the stack is
 * valid Terraform either way.
 */

export type PlanWarningCode = "expired" | "expiring" | "no-san" | "web-ca-in-trust-store" | "crl-past-next-update" | "unreadable";

export interface PlanWarning {
  readonly code: PlanWarningCode;
  /** What it is about: `web certificate`, `trust store CA`, `CRL`, ... */
  readonly about: string;
  readonly message: string;
}

/** Warn this many days before a certificate expires (issue 10: "a certificate expiring within 30 days"). */
export const EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 86_400_000;
const day = (d: Date) => d.toISOString().slice(0, 10);

/** Expired, or expiring within EXPIRY_WARNING_DAYS. */
export function expiryWarnings(about: string, certs: readonly X509Certificate[], now: Date): PlanWarning[] {
  return certs.flatMap((cert): PlanWarning[] => {
    const left = daysLeft(cert, now);
    const until = day(new Date(cert.validTo));
    if (left < 0) return [{ code: "expired", about, message: `'${subjectRfc2253(cert)}' expired on ${until}` }];
    if (left < EXPIRY_WARNING_DAYS) return [{ code: "expiring", about, message: `'${subjectRfc2253(cert)}' expires in ${left} day${left === 1 ? "" : "s"} (${until}): renew it before deploying` }];
    return [];
  });
}

/** RFC 9525 (which replaced RFC 6125) and browsers match the server name against SANs only; a CN alone is legacy. */
export function subjectAltNameWarnings(leaf: X509Certificate): PlanWarning[] {
  if (leaf.subjectAltName) return [];
  return [
    {
      code: "no-san",
      about: "web certificate",
      message: `'${subjectRfc2253(leaf)}' has no subject alternative name; browsers and clients that follow RFC 9525 ignore the CN and refuse it: create it with the cluster FQDN as a DNS name`,
    },
  ];
}

const issued = (cert: X509Certificate, by: X509Certificate) => cert.checkIssued(by) && cert.verify(by.publicKey);

/**
 * A trust store CA that issued a certificate of the web chain: the bundle is the web certificate's CA
 * (the UMS web root), not the device CA the UMS exports with "Export Client Certificate Chain".
 */
export function webCaInTrustStoreWarnings(trustStoreCas: readonly X509Certificate[], webChain: readonly X509Certificate[]): PlanWarning[] {
  return trustStoreCas.flatMap((ca): PlanWarning[] => {
    const child = webChain.find((c) => c.fingerprint256 !== ca.fingerprint256 && issued(c, ca));
    if (!child) return [];
    return [
      {
        code: "web-ca-in-trust-store",
        about: "trust store CA",
        message:
          `'${subjectRfc2253(ca)}' also issued the web certificate chain ('${subjectRfc2253(child)}'): the web CA seems to be given as the device CA; ` +
          "devices' certificates would be refused and anyone with a certificate from the web CA admitted: use the UMS's Export Client Certificate Chain as certificates.clientCaChain",
      },
    ];
  });
}

export function crlWarnings(crl: ParsedCrl, now: Date): PlanWarning[] {
  if (!crl.nextUpdate || crl.nextUpdate.getTime() >= now.getTime()) return [];
  const ago = Math.floor((now.getTime() - crl.nextUpdate.getTime()) / DAY_MS);
  return [
    {
      code: "crl-past-next-update",
      about: "CRL",
      message: `the CRL of '${crl.issuerName}' was due for its next update on ${day(crl.nextUpdate)} (${ago} day${ago === 1 ? "" : "s"} ago): revocations since then are missing; export a fresh CRL from the CA`,
    },
  ];
}
