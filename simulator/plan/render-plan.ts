import * as path from "node:path";
import { textTable } from "../report/text-table";
import { APPLICATION_YML_OUTPUT, StackPlan, ListenerPlan, TrustStorePlan, WebCertificatePlan } from "./stack-plan";
import type { CertificateSummary } from "./certificate-summary";
import type { InstanceModel } from "../terraform";

/**
 * The plan view for a terminal: per stack, small tables (listeners, allow-list, trust store, CRL),
 * labelled lines for the rest, and the warnings last, where the eye ends.
 */

const INDENT = "  ";
const indent = (text: string, by = INDENT) =>
  text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");
const day = (iso: string) => iso.slice(0, 10);
const expires = (c: CertificateSummary) => `${day(c.notAfter)} (${c.daysLeft < 0 ? `expired ${-c.daysLeft} days ago` : `${c.daysLeft} days`})`;

/** A title line and its body, indented under it. */
function section(title: string, body: string): string {
  return `${INDENT}${title}\n${indent(body, INDENT + INDENT)}`;
}

/** Labelled lines: `label  value`, a label repeated only on its first line. */
function labelled(rows: readonly Row[]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows
    .flatMap(([label, value]) => (typeof value === "string" ? [value] : value.length ? value : ["-"]).map((v, i) => `${(i === 0 ? label : "").padEnd(width)}  ${v}`.trimEnd()))
    .join("\n")
    .concat("\n");
}

function listenersTable(listeners: readonly ListenerPlan[]): string {
  const rows = listeners.flatMap((l) => {
    const options = [l.ignoreClientCertificateExpiry ? "expiry ignored" : "", l.advertiseTrustStoreCaNames === "on" ? "CA names advertised" : ""].filter(Boolean);
    const mtls = `${l.mtls}${options.length ? ` (${options.join(", ")})` : ""}`;
    const headers = l.headers.length ? l.headers.map((h) => h.name) : ["-"];
    return headers.map((h, i) => (i === 0 ? [String(l.port), l.protocol, mtls, l.tlsPolicy ?? "-", h] : ["", "", "", "", h]));
  });
  return textTable(["port", "protocol", "mTLS", "TLS policy", "headers added"], rows);
}

function rulesTable(listeners: readonly ListenerPlan[]): string {
  const rows = listeners.flatMap((l) => [...l.rules.map((r) => [String(l.port), String(r.priority), r.when, r.then]), [String(l.port), "default", "any other request", l.defaultAction]]);
  return textTable(["listener", "priority", "when", "then"], rows);
}

function trustStore(ts: TrustStorePlan): string {
  const cas = section(
    `trust store CAs: ${ts.caCount}, bundle ${path.basename(ts.bundleFile)} ${ts.bundleBytes} bytes`,
    textTable(["subject", "key", "expires"], ts.cas.map((c) => [c.subject, c.keyType, expires(c)])),
  );
  const crls = ts.crls.length
    ? section("CRL", textTable(["issuer", "next update", "entries"], ts.crls.map((c) => [c.issuer, c.nextUpdate ? day(c.nextUpdate) : "none", String(c.entries)])))
    : `${INDENT}CRL: none (no revocation list in the trust store)\n`;
  return `${cas}\n${crls}`;
}

function webCertificate(w: WebCertificatePlan): string {
  const c = w.certificate;
  if (!c) return `${INDENT}web certificate: ${w.address}, already in ACM (not in the stack): check it in the ACM console\n`;
  return section(
    "web certificate",
    labelled([
      ["subject", c.subject],
      ["SANs", c.subjectAltNames.length ? c.subjectAltNames.join(", ") : "none"],
      ["expires", expires(c)],
      ["key", c.keyType],
      ["chain (served)", w.chainSubjects.map((s, i) => `${i + 1}. ${s}`)],
    ]),
  );
}

type Row = readonly [string, string | readonly string[]];

function instanceRows(i: InstanceModel): Row[] {
  const what = [i.instanceType, i.image, i.subnetId, i.rootVolumeGiB === undefined ? undefined : `${i.rootVolumeGiB} GiB`, i.staticPublicIp ? "static public IP" : "no static public IP", i.keyName && `key pair ${i.keyName}`];
  return [
    ["instance", what.filter(Boolean).join(", ")],
    ["inbound", i.ingress.map((r) => `${r.ports} from ${r.from}`)],
  ];
}

function outputRows(plan: StackPlan): Row[] {
  const shown = plan.outputs.filter((o) => o.name !== APPLICATION_YML_OUTPUT);
  const later = shown.filter((o) => o.value === undefined).map((o) => o.name);
  return [["outputs", [...shown.flatMap((o) => (o.value === undefined ? [] : [`${o.name} = ${o.value}`])), ...(later.length ? [`${later.join(", ")}: known after apply`] : [])]]];
}

function renderStack(plan: StackPlan, cwd: string): string {
  const parts: string[] = [`${plan.name}  ${path.relative(cwd, plan.file) || plan.file}${plan.region ? `  (${plan.region})` : ""}\n`];
  if (plan.loadBalancer) {
    parts.push(section(`listeners of ${plan.loadBalancer.name} (idle timeout ${plan.loadBalancer.idleTimeoutSeconds} s)`, listenersTable(plan.listeners)));
    const onOff = plan.listeners.map((l) => `${l.port} ${l.allowList.on ? "on" : "off (every path forwarded)"}`).join(", ");
    parts.push(section(`allow-list: ${onOff}; listener rules in order`, rulesTable(plan.listeners)));
  } else {
    parts.push(`${INDENT}no load balancer: devices reach the server directly\n`);
  }
  parts.push(...plan.trustStores.map(trustStore), ...plan.webCertificates.map(webCertificate));
  parts.push(indent(labelled([...plan.instances.flatMap(instanceRows), ...outputRows(plan)])));
  if (plan.applicationYml) parts.push(section(`application.yml block (output ${APPLICATION_YML_OUTPUT}: paste it into the server's application.yml)`, plan.applicationYml));
  parts.push(plan.warnings.length ? section("warnings", plan.warnings.map((w) => `! ${w.about}: ${w.message}\n`).join("")) : `${INDENT}warnings: none\n`);
  return parts.join("\n");
}

/** Every stack's plan, separated by a blank line; paths relative to `cwd`. */
export function renderPlans(plans: readonly StackPlan[], cwd = process.cwd()): string {
  return plans.map((p) => renderStack(p, cwd)).join("\n");
}
