import { tryTls, TlsTarget } from "./tls-probe";
import { probeCertificateRequest } from "./openssl-probe";
import { httpGet, tryWebSocket, HttpAnswer } from "./http-probe";
import { ROUTES } from "../protocol/routes";
import { ALLOWED_PATH_PREFIXES } from "../../core/igel";

/**
 * `ums-edge doctor URL`: probes a live UMS/ICG front (an ALB, a reverse proxy, or the server itself)
 * from a device's point of view and explains what it finds.
 */

export type FindingStatus = "pass" | "warn" | "fail" | "info";

export interface Finding {
  readonly check: string;
  readonly status: FindingStatus;
  readonly detail: string;
}

export interface DoctorOptions {
  /** Client certificate chain and key (PEM text) of a device, to test the mTLS path. */
  readonly cert?: string;
  readonly key?: string;
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

export async function runDoctor(url: string, options: DoctorOptions = {}): Promise<Finding[]> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const target: TlsTarget = { host, port: Number(u.port || 443), servername: options.servername ?? host, timeoutMs: options.timeoutMs };
  const findings: Finding[] = [];
  const add = (check: string, status: FindingStatus, detail: string) => findings.push({ check, status, detail });

  const tls13 = await tryTls(target, "TLSv1.3", "TLSv1.3");
  const tls12 = await tryTls(target, "TLSv1.2", "TLSv1.2");
  const legacy = await tryTls(target, "TLSv1", "TLSv1.1");
  const reachable = [tls13, tls12].find((a) => a.ok || (a.error && a.error !== "ECONNREFUSED" && a.error !== "timeout" && a.error !== "ENOTFOUND"));
  if (!reachable) {
    add("reachable", "fail", `cannot open a TLS connection to ${target.host}:${target.port} (${tls13.error})`);
    return findings;
  }
  add("TLS 1.3", tls13.ok ? "pass" : "warn", tls13.ok ? "offered (IGEL recommends TLS 1.3 in front of the UMS)" : `not offered (${tls13.error}); IGEL recommends TLS 1.3`);
  add("TLS 1.2", "info", tls12.ok ? "offered" : `not offered (${tls12.error})`);
  add("TLS 1.0/1.1", legacy.ok ? "fail" : "pass", legacy.ok ? `offered (${legacy.protocol}): choose a TLS policy without them, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06` : "refused");

  const withCert = [tls13, tls12].find((a) => a.peerCertificate);
  const cert = withCert?.peerCertificate;
  if (cert) {
    const daysLeft = Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000);
    const names = cert.subjectAltName ?? cert.subject;
    const nameOk = cert.checkHost(target.servername) !== undefined || cert.checkIP(target.servername) !== undefined;
    add(
      "server certificate",
      !nameOk || daysLeft < 0 ? "fail" : daysLeft < 30 ? "warn" : "pass",
      `${nameOk ? "names" : "does NOT name"} ${target.servername} (${names}); ${daysLeft < 0 ? "EXPIRED" : `${daysLeft} days left`}; issuer ${cert.issuer.replace(/\n/g, ",")}`,
    );
  }

  const request = probeCertificateRequest(target.host, target.port, target.servername);
  if (!request) add("client certificate request", "info", "unknown: the openssl command is not installed");
  else
    add(
      "client certificate request",
      "info",
      !request.requested ? "not requested (plain TLS listener)" : request.caNames.length ? `requested; CA names advertised: ${request.caNames.join(" | ")}` : "requested; no CA names advertised",
    );
  const anonymous = tls13.ok ? tls13 : tls12;
  add(
    "client certificate required",
    "info",
    anonymous.ok ? "no: a client without a certificate completes the handshake (onboarding, web app, or passthrough)" : `yes: without a certificate the connection is refused (${anonymous.error}) (mTLS verify)`,
  );

  if (anonymous.ok) {
    for (const prefix of ALLOWED_PATH_PREFIXES) {
      const a = await httpGet({ ...target }, ALLOWED_PROBES[prefix] ?? prefix);
      add(`allowed path ${prefix}`, blockedByFront(a) || a.error ? "fail" : "pass", blockedByFront(a) ? `blocked by the front: ${describeAnswer(a)}; IGEL devices need it` : `reachable: ${describeAnswer(a)}`);
    }
    for (const path of BLOCKED_PATHS) {
      const a = await httpGet({ ...target }, path);
      const exposed = a.status !== undefined && a.status < 400;
      add(`blocked path ${path}`, exposed ? "fail" : "pass", exposed ? `reachable from the device side (${describeAnswer(a)}): allow only the four IGEL prefixes` : `not served: ${describeAnswer(a)}`);
    }
    const health = await Promise.all([ROUTES.info, ROUTES.icgStatus].map((p) => httpGet({ ...target }, p)));
    const answering = [ROUTES.info, ROUTES.icgStatus].filter((_p, i) => health[i].status === 200);
    add("health path", "info", answering.length ? `${answering.join(", ")} answers 200 from outside` : "neither /info nor /usg/check-status answers 200 from outside (normal behind a path allow-list: the ALB checks the target directly)");
  }

  if (options.cert && options.key) {
    const mtls = await tryTls({ ...target, cert: options.cert, key: options.key }, "TLSv1.2", "TLSv1.3");
    add("mTLS with the given certificate", mtls.ok ? "pass" : "fail", mtls.ok ? `handshake completed (${mtls.protocol})` : `refused: ${mtls.error}`);
    if (mtls.ok) {
      const ws = await tryWebSocket({ ...target, cert: options.cert, key: options.key }, ROUTES.deviceSocket);
      add("device WebSocket", ws.upgraded ? "pass" : "fail", ws.upgraded ? `${ROUTES.deviceSocket} upgraded (101)` : `${ROUTES.deviceSocket} refused: ${ws.status ?? ws.error}`);
    }
  }
  return findings;
}

export function failed(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.status === "fail");
}

