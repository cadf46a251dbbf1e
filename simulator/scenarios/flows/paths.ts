import * as fs from "node:fs";
import { ROUTES } from "../../protocol/routes";
import { encodeUrlAws } from "../../protocol/forwarded-cert";
import { MTLS_HEADER_DISPLAY } from "../../../core/aws-headers";
import { loadAppConfig } from "../../../core/ums-app-config";
import { REVERSE_PROXY_HEADER } from "../../runtime/lab";
import { tlsTerminator } from "../context";
import type { Component } from "../outcome";
import { connectionLogFor, connectionLogMark, nginxAccessLine, componentLog } from "../evidence-logs";
import { answeredBy, httpsGet, reasonOf, wsUpgrade, ProbeAnswer, ProbeTarget } from "../probes";
import type { Flow } from "./flow";
import type { Observation, ScenarioContext } from "../context";

/** Requests from the device side that must be refused: no certificate, a spoofed header, paths outside the allow-list. */

function target(ctx: ScenarioContext, url: string, extra: Partial<ProbeTarget> = {}): ProbeTarget {
  return { url, serverName: ctx.topology.devices.serverName, trustedCaFile: ctx.topology.devices.trustedCaFile, ...extra };
}

function asComponent(by: string | undefined, fallback: Component): Component {
  return by === "ums" || by === "nginx" || by === "alb" || by === "icg" ? by : fallback;
}

async function observe(ctx: ScenarioContext, a: ProbeAnswer, what: string, logMark: number): Promise<Observation> {
  const terminator = tlsTerminator(ctx.topology);
  if (a.upgraded) return { outcome: { kind: "ok" }, evidence: { status: 101, detail: `${what}: upgraded (101)` } };
  if (a.status === undefined) {
    const record = terminator === "alb" ? await connectionLogFor(ctx.topology, undefined, logMark) : undefined;
    return { outcome: { kind: "tls", by: terminator, connectionLog: record?.verifyStatus }, evidence: { tlsError: a.error, connectionLog: record?.verifyStatus, logLine: record?.line, detail: what } };
  }
  const by = asComponent(answeredBy(a), terminator);
  const evidence = { status: a.status, by, reason: reasonOf(a), detail: what, logLine: by === "nginx" ? nginxAccessLine(ctx.topology, what.split(" ").pop() ?? "") : undefined };
  if (a.status < 400) return { outcome: { kind: "ok" }, evidence };
  return { outcome: { kind: "http", by, status: a.status }, evidence };
}

/** A WebSocket upgrade on the management path without any client certificate. */
export const noCertificateFlow: Flow = async (ctx) => {
  const mark = connectionLogMark(ctx.topology);
  const a = await wsUpgrade(target(ctx, ctx.topology.devices.clusterUrl), ROUTES.deviceSocket);
  return observe(ctx, a, `GET ${ROUTES.deviceSocket}`, mark);
};

/**
 * An attacker without a certificate sends a good device's certificate in every forwarded-certificate
 * header. A front that forwards client headers unchanged would make the UMS take it for that device.
 * In ALB verify mode 8443 needs a certificate, so the attempt goes to the 443 listener.
 */
export const spoofedHeaderFlow: Flow = async (ctx) => {
  const chain = fs.readFileSync(ctx.lab.pki.devices.good.chain, "utf8");
  const leaf = fs.readFileSync(ctx.lab.pki.devices.good.cert, "utf8");
  // AWS's names, nginx's, and the one this UMS actually reads (a stack may rename the ALB's headers).
  const d = ctx.topology.definition;
  const forwarding = loadAppConfig(ctx.lab.appConfigFile(d.appConfig.ums, d.stack)).forwarding;
  const headers = {
    [MTLS_HEADER_DISPLAY.leaf]: encodeUrlAws(leaf),
    [MTLS_HEADER_DISPLAY.clientcert]: encodeUrlAws(chain),
    [REVERSE_PROXY_HEADER]: encodeUrlAws(leaf),
    ...(forwarding.enabled ? { [forwarding.header]: encodeUrlAws(chain) } : {}),
  };
  const mark = connectionLogMark(ctx.topology);
  const a = await wsUpgrade(target(ctx, ctx.topology.devices.enrollmentUrl, { headers }), ROUTES.deviceSocket);
  const observed = await observe(ctx, a, `GET ${ROUTES.deviceSocket} with spoofed headers`, mark);
  const refusal = componentLog(ctx.topology, "ums", (e) => e.path === ROUTES.deviceSocket && typeof e.reason === "string")[0];
  return refusal && observed.outcome.kind !== "ok" ? { ...observed, evidence: { ...observed.evidence, logLine: JSON.stringify(refusal) } } : observed;
};

/** The IMI API from the device side (with a good device certificate): the allow-list must hide it. */
export const outsideAllowListFlow: Flow = async (ctx) => {
  const identity = { cert: fs.readFileSync(ctx.lab.pki.devices.good.chain, "utf8"), key: fs.readFileSync(ctx.lab.pki.devices.good.key, "utf8") };
  const mark = connectionLogMark(ctx.topology);
  const a = await httpsGet(target(ctx, ctx.topology.devices.clusterUrl, { identity }), ROUTES.serverStatus);
  return observe(ctx, a, `GET ${ROUTES.serverStatus}`, mark);
};
