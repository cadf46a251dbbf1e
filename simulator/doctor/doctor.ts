import { tryTls, TlsAttempt, TlsTarget } from "./tls-probe";
import { probeCertificateRequest } from "./openssl-probe";
import { httpGet, tryWebSocket, HttpAnswer } from "./http-probe";
import { servedChainFinding } from "./served-chain";
import { ROUTES } from "../protocol/routes";
import { issuerRfc2253 } from "../pki/dn";
import { ALLOWED_PATH_PREFIXES } from "../../core/igel";

/**
 * `ums-edge doctor URL`: probes a live UMS/ICG front (an ALB, a reverse proxy, or the server itself)
 * from a device's point of view and explains what it finds.
 */

/** `skip`: the probe could not run (it says why and what would let it run). */
export type FindingStatus = "pass" | "warn" | "fail" | "info" | "skip";

export interface Finding {
  readonly check: string;
  readonly status: FindingStatus;
  readonly detail: string;
}

export interface DoctorOptions {
  /** Client certificate chain and key (PEM text) of a device, to test the mTLS path. */
  readonly cert?: string;
  readonly key?: string;
  /** CA certificates (PEM text) devices trust: the served chain must lead to one of them. */
  readonly caCert?: string;
  /** Name of the CA file, for messages. @default "the given CA certificates" */
  readonly caCertName?: string;
  /** Name for SNI and the certificate check when the URL holds an address. @default the URL's host */
  readonly servername?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/** Paths a device-facing front must not expose (the IMI API) and one to see how unknowns are answered. */
const BLOCKED_PATHS = [ROUTES.serverStatus, "/umsapi/v3/thinclients"];
/** Probes inside each allowed prefix; the app proxy and the connector answer something other than a front's 404. */
const ALLOWED_PROBES: Record<string, string> = {
  "/device-connector/": ROUTES.onboard,
  "/ums-appproxy/": `${ROUTES.appProxy}/doctor/0`,
  "/wums-app/": ROUTES.webApp,
  "/webapp/": ROUTES.legacyWebApp,
};

/**
 * TLS 1.2 suites with a static RSA key exchange: no forward secrecy. AWS ("Security policies for your
 * Application Load Balancer"): policies whose TLS 1.2 ciphers are all ECDHE provide forward secrecy.
 */
const STATIC_RSA_CIPHERS = "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA";

const NEEDS_CERT = "the listener requires a client certificate: give a device's --cert and --key";
const REFUSED_CERT = "the listener refused the given client certificate (see 'mTLS with the given certificate')";
const DEVICE_PROTOCOL_CAVEAT = "the device protocol is ums-edge's model of IGEL's (IGEL does not publish it): against a real UMS this is a hint, not a verdict";

/** An answer from the front itself rather than the backend: a 403, or a plain 404 such as an ALB fixed response or nginx's page. */
export function blockedByFront(a: HttpAnswer): boolean {
  if (a.status === 403) return true;
  if (a.status !== 404) return false;
  const body = (a.body ?? "").trim();
  return body === "Not Found" || /<center>nginx<\/center>/.test(body) || body === "";
}

function describeAnswer(a: HttpAnswer): string {
  return a.error ? `error ${a.error}` : `${a.status}${a.contentType ? ` (${a.contentType.split(";")[0]})` : ""}`;
}

/** Something answered TLS (even a refusal): the address is right. */
function reached(a: TlsAttempt): boolean {
  return a.ok || a.handshake || (a.error !== undefined && !["ECONNREFUSED", "timeout", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"].includes(a.error));
}

/** The server refused the protocol version itself (not the client). */
const VERSION_REFUSED = /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION|NO_PROTOCOLS|VERSION_TOO_LOW|VERSION_TOO_HIGH/i;

export async function runDoctor(url: string, options: DoctorOptions = {}): Promise<Finding[]> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const target: TlsTarget = { host, port: Number(u.port || 443), servername: options.servername ?? host, timeoutMs: options.timeoutMs };
  const identity = options.cert && options.key ? { cert: options.cert, key: options.key } : undefined;
  // Every probe presents the device certificate when one is given: a device always does, and a
  // listener that requires one refuses every other probe (TLS versions included).
  const device: TlsTarget = identity ? { ...target, ...identity } : target;
  const findings: Finding[] = [];
  const add = (check: string, status: FindingStatus, detail: string) => findings.push({ check, status, detail });

  // Onboarding clients and browsers have no certificate: can they get in?
  const anonymous = await tryTls(target, "TLSv1.2", "TLSv1.3");
  const withCert = identity ? await tryTls(device, "TLSv1.2", "TLSv1.3") : undefined;
  if (!reached(anonymous) && !(withCert && reached(withCert))) {
    add("reachable", "fail", `cannot open a TLS connection to ${target.host}:${target.port} (${anonymous.error})`);
    return findings;
  }
  const request = await probeCertificateRequest(target.host, target.port, target.servername);
  const required = !anonymous.ok && (withCert?.ok === true || request?.requested === true);
  /** Why probes that need an accepted connection cannot run: the listener wants a certificate and has none it accepts. */
  const blockedWhy = !required || withCert?.ok ? undefined : identity ? REFUSED_CERT : NEEDS_CERT;
  const blocked = blockedWhy !== undefined;

  const tls13 = await tryTls(device, "TLSv1.3", "TLSv1.3");
  const tls12 = await tryTls(device, "TLSv1.2", "TLSv1.2");
  const legacy = await tryTls(device, "TLSv1", "TLSv1.1");
  if (tls13.ok || (tls13.handshake && blocked)) {
    add("TLS 1.3", "pass", tls13.ok ? "offered (IGEL recommends TLS 1.3 in front of the UMS)" : "offered (the server completed the TLS 1.3 handshake, then refused the client for having no certificate)");
  } else if (blocked) {
    add("TLS 1.3", "skip", `not checked: ${blockedWhy}`);
  } else {
    add("TLS 1.3", "warn", `not offered (${tls13.error}); IGEL recommends TLS 1.3`);
  }
  if (tls12.ok) add("TLS 1.2", "info", "offered");
  else if (blocked && !VERSION_REFUSED.test(tls12.error ?? "")) add("TLS 1.2", "skip", `not checked: ${blockedWhy}`);
  else add("TLS 1.2", "info", `not offered (${tls12.error})`);
  if (legacy.ok) add("TLS 1.0/1.1", "fail", `offered (${legacy.protocol}): choose a TLS policy without them, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06`);
  else if (blocked && !VERSION_REFUSED.test(legacy.error ?? "")) add("TLS 1.0/1.1", "skip", `not checked: ${blockedWhy}`);
  else add("TLS 1.0/1.1", "pass", "refused");

  const negotiated = [tls13, tls12].filter((a) => a.handshake && a.cipher).map((a) => `${a.protocol} ${a.cipher}`);
  if (tls12.ok) {
    const staticRsa = await tryTls(device, "TLSv1.2", "TLSv1.2", { ciphers: STATIC_RSA_CIPHERS });
    negotiated.push(
      staticRsa.ok
        ? `also accepts TLS 1.2 ciphers without forward secrecy (${staticRsa.cipher}); a TLS policy whose TLS 1.2 ciphers are all ECDHE refuses them`
        : "refuses TLS 1.2 ciphers without forward secrecy",
    );
  }
  if (negotiated.length > 0) add("cipher", "info", negotiated.join("; "));
  else add("cipher", "skip", blocked ? `not checked: ${blockedWhy}` : "not checked: no TLS 1.2 or 1.3 handshake completed");

  const withPeer = [tls13, tls12, withCert, anonymous].find((a): a is TlsAttempt => Boolean(a?.peerCertificate));
  const cert = withPeer?.peerCertificate;
  if (cert) {
    const daysLeft = Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000);
    const names = cert.subjectAltName ?? cert.subject;
    const nameOk = cert.checkHost(target.servername) !== undefined || cert.checkIP(target.servername) !== undefined;
    add(
      "server certificate",
      !nameOk || daysLeft < 0 ? "fail" : daysLeft < 30 ? "warn" : "pass",
      `${nameOk ? "names" : "does NOT name"} ${target.servername} (${names}); ${daysLeft < 0 ? "EXPIRED" : `${daysLeft} days left`}; issuer ${issuerRfc2253(cert)}`,
    );
  } else {
    add("server certificate", "skip", blocked ? `not checked: ${blockedWhy}` : "not checked: no handshake completed");
  }
  if (options.caCert !== undefined) {
    const f = servedChainFinding(withPeer?.peerChainPem, options.caCert, options.caCertName ?? "the given CA certificates");
    add("served chain", f.status, f.status === "skip" && blocked ? `not checked: ${blockedWhy}` : f.detail);
  }

  if (!request) add("client certificate request", "info", "unknown: the openssl command is not installed");
  else
    add(
      "client certificate request",
      "info",
      !request.requested ? "not requested (plain TLS listener)" : request.caNames.length ? `requested; CA names advertised: ${request.caNames.join(" | ")}` : "requested; no CA names advertised",
    );
  add(
    "client certificate required",
    "info",
    anonymous.ok
      ? "no: a client without a certificate completes the handshake (onboarding, web app, or passthrough)"
      : `yes: without a certificate the connection is refused (${anonymous.error})${withCert?.ok ? "; with the given certificate it is accepted" : ""} (mTLS verify)`,
  );

  const pathTarget = anonymous.ok ? target : withCert?.ok ? device : undefined;
  if (pathTarget) {
    for (const prefix of ALLOWED_PATH_PREFIXES) {
      const a = await httpGet(pathTarget, ALLOWED_PROBES[prefix] ?? prefix);
      add(`allowed path ${prefix}`, blockedByFront(a) || a.error ? "fail" : "pass", blockedByFront(a) ? `blocked by the front: ${describeAnswer(a)}; IGEL devices need it` : `reachable: ${describeAnswer(a)}`);
    }
    for (const path of BLOCKED_PATHS) {
      const a = await httpGet(pathTarget, path);
      const exposed = a.status !== undefined && a.status < 400;
      add(`blocked path ${path}`, exposed ? "fail" : "pass", exposed ? `reachable from the device side (${describeAnswer(a)}): allow only the four IGEL prefixes` : `not served: ${describeAnswer(a)}`);
    }
    const health = await Promise.all([ROUTES.info, ROUTES.icgStatus].map((p) => httpGet(pathTarget, p)));
    const answering = [ROUTES.info, ROUTES.icgStatus].filter((_p, i) => health[i].status === 200);
    add("health path", "info", answering.length ? `${answering.join(", ")} answers 200 from outside` : "neither /info nor /usg/check-status answers 200 from outside (normal behind a path allow-list: the ALB checks the target directly)");
  } else {
    add("paths", "skip", blocked ? `allowed and blocked paths not checked: ${blockedWhy}` : "allowed and blocked paths not checked: no connection was accepted");
  }

  const notRequested = request?.requested === false;
  if (identity && withCert) {
    if (notRequested) add("mTLS with the given certificate", "info", "not used: the listener does not ask for a client certificate (plain TLS), so it was not sent");
    else add("mTLS with the given certificate", withCert.ok ? "pass" : "fail", withCert.ok ? `handshake completed (${withCert.protocol})` : `refused: ${withCert.error}`);
  }
  if (!identity) {
    add("device WebSocket", "skip", "not tried: give a device's --cert and --key");
  } else if (notRequested) {
    add("device WebSocket", "skip", "not tried: the listener does not ask for a client certificate, so a device cannot be identified here (behind an ALB in verify mode devices are managed over the mTLS listener, 8443)");
  } else if (withCert?.ok) {
    const ws = await tryWebSocket(device, ROUTES.deviceSocket);
    const what = ws.upgraded
      ? `${ROUTES.deviceSocket} upgraded (101)`
      : `${ROUTES.deviceSocket}: no WebSocket upgrade: ${ws.status !== undefined ? `got ${ws.status}${ws.contentType ? ` (${ws.contentType.split(";")[0]})` : ""}` : `the connection failed (${ws.error})`}`;
    add("device WebSocket", ws.upgraded ? "pass" : "warn", `${what}; ${DEVICE_PROTOCOL_CAVEAT}`);
  }
  return findings;
}

export function failed(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.status === "fail");
}
