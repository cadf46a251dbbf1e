import { TopologyName, topologyDefinition } from "../runtime/topologies/definitions";
import type { StackFact, StackFacts } from "./stack-facts";
import { Outcome, ok, na, blocked, http, tls, unsupported } from "./outcome";

/**
 * The specification the simulation checks: design section 2 as data, one row per scenario, one
 * expected outcome per topology. The code that runs the scenarios lives in flows/; nothing here runs.
 * Where AWS or IGEL document nothing, the expectation follows an assumption listed in assumptions.ts.
 */

export type ScenarioId =
  | "health"
  | "onboarding"
  | "onboarding-on-8443"
  | "management-session"
  | "command-reboot"
  | "command-settings"
  | "app-download"
  | "web-app"
  | "cert-other-ca"
  | "cert-self-signed"
  | "cert-expired"
  | "cert-not-yet-valid"
  | "cert-revoked"
  | "cert-too-deep"
  | "cert-x509-v1"
  | "cert-rsa-1024"
  | "cert-wrong-purpose"
  | "cert-non-ca-issuer"
  | "cert-sha1"
  | "tls-cipher-outside-policy"
  | "no-cert-management"
  | "spoofed-header"
  | "path-outside-allow-list"
  | "path-traversal"
  | "reenroll-existing-unit"
  | "bypass-front"
  | "ums-wrong-header"
  | "ums-without-url-aws"
  | "ums-failover"
  // certificates changing under a running deployment (issue 15 §2; flows/certificate-changes.ts)
  | "crl-update"
  | "web-cert-renewal"
  | "ca-rotation";

/** An outcome that depends on a setting of the topology's stack (the administrator's choice). */
export interface Depends {
  readonly kind: "depends";
  readonly on: StackFact;
  readonly when: Readonly<Record<"on" | "off", Outcome>>;
}
export type Expectation = Outcome | Depends;

export interface ScenarioSpec {
  readonly id: ScenarioId;
  readonly title: string;
  /** The expected outcome per topology, by name; a topology not named gets `otherwise`. */
  readonly expected: Readonly<Partial<Record<TopologyName, Expectation>>>;
  readonly otherwise: Expectation;
}

/**
 * The expected outcome of a scenario in a topology (one that declares `expectLike` inherits that
 * topology's), with the stack's settings deciding where the table says it depends on them.
 */
export function expectedOutcome(spec: ScenarioSpec, topology: TopologyName, facts?: StackFacts): Outcome {
  const like = topologyDefinition(topology).expectLike;
  const e = spec.expected[topology] ?? (like ? spec.expected[like] : undefined) ?? spec.otherwise;
  if (e.kind !== "depends") return e;
  if (!facts) throw new Error(`scenario '${spec.id}' depends on the stack's '${e.on}', but topology '${topology}' has no ALB stack`);
  return e.when[facts[e.on]];
}

/** `on`/`off`: what the stack's setting makes of the scenario. */
const depends = (on: StackFact, when: Depends["when"]): Depends => ({ kind: "depends", on, when });

function row(id: ScenarioId, title: string, expected: ScenarioSpec["expected"], otherwise: Expectation = ok): ScenarioSpec {
  return { id, title, expected, otherwise };
}

/**
 * A bad device certificate: where each topology refuses it (design section 2 and AWS's connection-log
 * codes). `albUnless`: a stack setting under which the verify listener lets it through to the backend.
 */
function badCert(id: ScenarioId, title: string, albCode: string, nginx: Outcome, umsAccepts = false, albUnless?: { readonly fact: StackFact; readonly value: "on" | "off" }): ScenarioSpec {
  const ums = umsAccepts ? ok : http("ums", 401);
  const icg = umsAccepts ? ok : http("icg", 401);
  const verify = (backend: Outcome): Expectation => {
    if (!albUnless) return tls("alb", albCode);
    const other = albUnless.value === "on" ? "off" : "on";
    return depends(albUnless.fact, { [albUnless.value]: backend, [other]: tls("alb", albCode) } as Depends["when"]);
  };
  return row(id, title, { direct: ums, "reverse-proxy": nginx, icg, "alb-verify": verify(ums), "alb-passthrough": ums, "icg-alb-verify": verify(icg), "icg-alb-passthrough": icg });
}

/** The ALB refuses a client whose ciphers its listener's security policy does not offer (ELB user guide, "Security policies"). */
const LEGACY_CIPHERS = depends("legacyCiphers", { on: ok, off: tls("alb", "Failed:UnmappedConnectionError") });

/** Refused in the handshake by a verify listener: the ALB topologies in verify mode. */
const VERIFY_REFUSES = { "alb-verify": tls("alb"), "icg-alb-verify": tls("alb") } as const;

/** Rows proved on the single-server topologies only (the certificate changes: the HA topologies use the same stacks). */
const NOT_ON_HA = { "alb-verify-ha": na, "alb-passthrough-ha": na } as const;

export const SCENARIOS: readonly ScenarioSpec[] = [
  row("health", "target health check (/info, /usg/check-status)", {}),
  row("onboarding", "onboarding (no client certificate yet) at the enrollment address", {}),
  row("onboarding-on-8443", "onboarding on 8443 without a client certificate", VERIFY_REFUSES),
  row("management-session", "management WebSocket with a valid device certificate", {}),
  row("command-reboot", "reboot command round trip", {}),
  row("command-settings", "settings push (settings2tc) round trip", {}),
  row("app-download", "app download from /ums-appproxy/ (UMS as update proxy)", { icg: unsupported("icg"), "icg-alb-verify": unsupported("icg"), "icg-alb-passthrough": unsupported("icg") }),
  row("web-app", "web app /wums-app/ and /webapp/ from a browser without a client certificate", { icg: na, "icg-alb-verify": na, "icg-alb-passthrough": na }),
  badCert("cert-other-ca", "device certificate from another CA (untrusted)", "Failed:ClientCertUntrusted", http("nginx", 400)),
  badCert("cert-self-signed", "self-signed device certificate", "Failed:ClientCertUntrusted", http("nginx", 400)),
  // ignore_client_certificate_expiry: the ALB lets an expired certificate through; the backend still checks validity.
  badCert("cert-expired", "expired device certificate", "Failed:ClientCertExpired", http("nginx", 400), false, { fact: "ignoreClientCertificateExpiry", value: "on" }),
  badCert("cert-not-yet-valid", "device certificate not yet valid", "Failed:ClientCertNotYetValid", http("nginx", 400)),
  // A trust store without a CRL cannot refuse a revoked certificate; the backend knows the UMS's CRL.
  badCert("cert-revoked", "revoked device certificate (CRL)", "Failed:ClientCertCrlHit", http("nginx", 400), false, { fact: "trustStoreCrl", value: "off" }),
  badCert("cert-too-deep", "device certificate chain deeper than 4", "Failed:ClientCertMaxChainDepthExceeded", http("nginx", 400), true),
  // OpenSSL (nginx) accepts a v1 leaf; at Debian's security level 2 it refuses RSA keys under 2048 bits.
  badCert("cert-x509-v1", "X.509 v1 device certificate", "Failed:ClientCertTypeUnsupported", ok, true),
  badCert("cert-rsa-1024", "device certificate with an RSA-1024 key", "Failed:ClientCertTypeUnsupported", http("nginx", 400), true),
  // OpenSSL (nginx) checks the TLS client purpose, CA flags and (at Debian's security level 2) SHA-1
  // signatures; the UMS and the ICG (UMS_CHAIN_POLICY, ICG_CHAIN_POLICY) check CA flags only.
  badCert("cert-wrong-purpose", "device certificate with the wrong purpose (extendedKeyUsage serverAuth only)", "Failed:ClientCertPurposeInvalid", http("nginx", 400), true),
  badCert("cert-non-ca-issuer", "device certificate issued by a certificate that is not a CA", "Failed:ClientCertUntrusted", http("nginx", 400)),
  badCert("cert-sha1", "device certificate signed with SHA-1", "Failed:ClientCertIncompatible", http("nginx", 400), true),
  // A client offering only TLS 1.2 CBC-SHA ciphers (flows/tls-policy.ts): the ALB's default TLS 1.3 policies have
  // none of them (a stack on ELBSecurityPolicy-2016-08 or the like lets it in); nginx speaks TLS 1.3 only; the UMS and
  // the ICG take OpenSSL's defaults.
  row("tls-cipher-outside-policy", "client offering only ciphers outside the listener's TLS policy", {
    "reverse-proxy": tls("nginx"),
    "alb-verify": LEGACY_CIPHERS,
    "alb-passthrough": LEGACY_CIPHERS,
    "icg-alb-verify": LEGACY_CIPHERS,
    "icg-alb-passthrough": LEGACY_CIPHERS,
  }),
  row("no-cert-management", "no client certificate on the management path", { direct: http("ums", 401), "reverse-proxy": http("nginx", 401), icg: http("icg", 401), ...VERIFY_REFUSES, "alb-passthrough": http("ums", 401), "icg-alb-passthrough": http("icg", 401) }),
  // Verify stacks refuse the forwarded-certificate header on 443 with a rule (stacks/alb-front.ts): the ALB answers 400 itself.
  row("spoofed-header", "client sends its own X-Amzn-Mtls-* header with a device's certificate", { direct: na, "reverse-proxy": http("nginx", 401), icg: na, "alb-verify": http("alb", 400), "alb-passthrough": http("ums", 401), "icg-alb-verify": http("alb", 400), "icg-alb-passthrough": http("icg", 401) }),
  row("path-outside-allow-list", "path outside the allow-list (/umsapi/) from the device side", {
    "reverse-proxy": http("nginx", 404),
    icg: http("icg", 404),
    "alb-verify": depends("pathAllowList", { on: http("alb", 404), off: ok }),
    "alb-passthrough": depends("pathAllowList", { on: http("alb", 404), off: ok }),
    // The ICG answers 404 outside its own paths whatever the load balancer forwards.
    "icg-alb-verify": http("icg", 404),
    "icg-alb-passthrough": http("icg", 404),
  }),
  // Must never reach /umsapi/: nginx refuses the ambiguous spellings itself; a stack with the allow-list answers them with
  // deny rules (fixed 400) ahead of it; the ICG resolves them as a servlet container does and has no route there. Without
  // the allow-list /umsapi/ is reachable anyway (the row above), and behind an ICG the ICG answers.
  row("path-traversal", "dot-segment and encoded traversal past the allow-list (must never reach /umsapi/)", {
    direct: na,
    "reverse-proxy": http("nginx", 400),
    icg: http("icg", 404),
    "alb-verify": depends("pathAllowList", { on: http("alb", 400), off: ok }),
    "alb-passthrough": depends("pathAllowList", { on: http("alb", 400), off: ok }),
    "icg-alb-verify": depends("pathAllowList", { on: http("alb", 400), off: http("icg", 404) }),
    "icg-alb-passthrough": depends("pathAllowList", { on: http("alb", 400), off: http("icg", 404) }),
  }),
  // An enrollment key admits a new device, never an existing one (issue 14): the UMS refuses, whatever the front.
  row("reenroll-existing-unit", "re-onboarding an existing unit id with a fresh enrollment key (refused)", {}, http("ums", 409)),
  row("bypass-front", "device reaches the UMS directly, bypassing the front", { direct: na }, blocked),
  row("ums-wrong-header", "UMS application.yml names the passthrough header behind a verify listener", { "alb-verify": http("ums", 401) }, na),
  row("ums-without-url-aws", "UMS application.yml without encodingType URL_AWS behind a passthrough listener", { "alb-passthrough": http("ums", 400) }, na),
  // HA (issue 15 §1): a UMS server of the cluster dies; assumptions ums-ha-shared-database, alb-no-retry-on-dead-target.
  row("ums-failover", "a UMS server of the cluster killed: its devices move to another, commands exactly once", { "alb-verify-ha": ok, "alb-passthrough-ha": ok }, na),
  // --- certificates changing under a running deployment (issue 15 §2): each on a topology of its own, certificates
  // changed while it runs; assumptions "trust-store-update-sessions", "ums-crl-update". A CRL update ends like a revoked
  // certificate; the web certificate (ACM) and the trust store are the ALB's; the rotation row is the lockout a wrong order causes.
  // The HA topologies share their stacks with alb-verify / alb-passthrough: the changes are proved there, not again on a cluster.
  ((spec) => ({ ...spec, expected: { ...spec.expected, ...NOT_ON_HA } }))(
    badCert("crl-update", "device revoked while the topology runs (new CRL): refused at its next connect", "Failed:ClientCertCrlHit", http("nginx", 400), false, { fact: "trustStoreCrl", value: "off" }),
  ),
  row("web-cert-renewal", "web certificate renewed (ACM re-import): new handshakes get it, no session dropped", { direct: na, "reverse-proxy": na, icg: na, ...NOT_ON_HA }),
  row("ca-rotation", "device CA rotation, old CA removed from the trust store before a device moved: that device is locked out", { "alb-verify": tls("alb", "Failed:ClientCertUntrusted"), "icg-alb-verify": tls("alb", "Failed:ClientCertUntrusted"), ...NOT_ON_HA }, na),
  // --- end certificates changing
];
