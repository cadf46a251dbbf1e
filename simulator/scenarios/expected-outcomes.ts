import type { TopologyName } from "../runtime/topologies/topology";
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
  | "no-cert-management"
  | "spoofed-header"
  | "path-outside-allow-list"
  | "bypass-front"
  | "ums-wrong-header"
  | "ums-without-url-aws";

export interface ScenarioSpec {
  readonly id: ScenarioId;
  readonly title: string;
  readonly expected: Readonly<Record<TopologyName, Outcome>>;
}

type Row = [direct: Outcome, reverseProxy: Outcome, icg: Outcome, albVerify: Outcome, albPassthrough: Outcome, icgAlbVerify: Outcome, icgAlbPassthrough: Outcome];

function row(id: ScenarioId, title: string, r: Row): ScenarioSpec {
  const [direct, reverseProxy, icg, albVerify, albPassthrough, icgAlbVerify, icgAlbPassthrough] = r;
  return {
    id,
    title,
    expected: {
      direct,
      "reverse-proxy": reverseProxy,
      icg,
      "alb-verify": albVerify,
      "alb-passthrough": albPassthrough,
      "icg-alb-verify": icgAlbVerify,
      "icg-alb-passthrough": icgAlbPassthrough,
    },
  };
}

/** A bad device certificate: where each topology refuses it (design section 2 and AWS's connection-log codes). */
function badCert(id: ScenarioId, title: string, albCode: string, nginx: Outcome, umsAccepts = false): ScenarioSpec {
  const ums = umsAccepts ? ok : http("ums", 401);
  const icg = umsAccepts ? ok : http("icg", 401);
  return row(id, title, [ums, nginx, icg, tls("alb", albCode), ums, tls("alb", albCode), icg]);
}

//                                                                                         direct            reverse-proxy        icg                  alb-verify                            alb-passthrough      icg-alb-verify                        icg-alb-passthrough
export const SCENARIOS: readonly ScenarioSpec[] = [
  row("health", "target health check (/info, /usg/check-status)", [ok, ok, ok, ok, ok, ok, ok]),
  row("onboarding", "onboarding (no client certificate yet) at the enrollment address", [ok, ok, ok, ok, ok, ok, ok]),
  row("onboarding-on-8443", "onboarding on 8443 without a client certificate", [ok, ok, ok, tls("alb"), ok, tls("alb"), ok]),
  row("management-session", "management WebSocket with a valid device certificate", [ok, ok, ok, ok, ok, ok, ok]),
  row("command-reboot", "reboot command round trip", [ok, ok, ok, ok, ok, ok, ok]),
  row("command-settings", "settings push (settings2tc) round trip", [ok, ok, ok, ok, ok, ok, ok]),
  row("app-download", "app download from /ums-appproxy/ (UMS as update proxy)", [ok, ok, unsupported("icg"), ok, ok, unsupported("icg"), unsupported("icg")]),
  row("web-app", "web app /wums-app/ and /webapp/ from a browser without a client certificate", [ok, ok, na, ok, ok, na, na]),
  badCert("cert-other-ca", "device certificate from another CA (untrusted)", "Failed:ClientCertUntrusted", http("nginx", 400)),
  badCert("cert-self-signed", "self-signed device certificate", "Failed:ClientCertUntrusted", http("nginx", 400)),
  badCert("cert-expired", "expired device certificate", "Failed:ClientCertExpired", http("nginx", 400)),
  badCert("cert-not-yet-valid", "device certificate not yet valid", "Failed:ClientCertNotYetValid", http("nginx", 400)),
  badCert("cert-revoked", "revoked device certificate (CRL)", "Failed:ClientCertCrlHit", http("nginx", 400)),
  badCert("cert-too-deep", "device certificate chain deeper than 4", "Failed:ClientCertMaxChainDepthExceeded", http("nginx", 400), true),
  // OpenSSL (nginx) accepts a v1 leaf; at Debian's security level 2 it refuses RSA keys under 2048 bits.
  badCert("cert-x509-v1", "X.509 v1 device certificate", "Failed:ClientCertTypeUnsupported", ok, true),
  badCert("cert-rsa-1024", "device certificate with an RSA-1024 key", "Failed:ClientCertTypeUnsupported", http("nginx", 400), true),
  row("no-cert-management", "no client certificate on the management path", [http("ums", 401), http("nginx", 401), http("icg", 401), tls("alb"), http("ums", 401), tls("alb"), http("icg", 401)]),
  row("spoofed-header", "client sends its own X-Amzn-Mtls-* header with a device's certificate", [na, http("nginx", 401), na, http("ums", 401), http("ums", 401), http("icg", 401), http("icg", 401)]),
  row("path-outside-allow-list", "path outside the allow-list (/umsapi/) from the device side", [ok, http("nginx", 404), http("icg", 404), http("alb", 404), http("alb", 404), http("icg", 404), http("icg", 404)]),
  row("bypass-front", "device reaches the UMS directly, bypassing the front", [na, blocked, blocked, blocked, blocked, blocked, blocked]),
  row("ums-wrong-header", "UMS application.yml names the passthrough header behind a verify listener", [na, na, na, http("ums", 401), na, na, na]),
  row("ums-without-url-aws", "UMS application.yml without encodingType URL_AWS behind a passthrough listener", [na, na, na, na, http("ums", 400), na, na]),
];
