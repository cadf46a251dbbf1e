import * as fs from "node:fs";
import type { X509Certificate } from "node:crypto";
import { certificatesFromPem } from "../../core/pem";
import { parseCrls, ParsedCrl } from "../../core/crl-reader";
import { isUserError } from "../../core/errors";
import { MTLS_HEADERS, MTLS_HEADER_DISPLAY, MtlsHeaderKey } from "../../core/aws-headers";
import {
  openStack,
  readStack,
  readInstances,
  listStackOutputs,
  regionOf,
  stackNameOf,
  ActionModel,
  ConditionModel,
  InstanceModel,
  ListenerModel,
  MtlsMode,
  StackModel,
  StackOutput,
  TrustStoreModel,
  CertificateModel,
  HEADER_RENAME_ATTRIBUTES,
} from "../terraform";
import type { StackReader, TfResource } from "../terraform/stack-reader";
import { summariseCertificate, CertificateSummary } from "./certificate-summary";
import { crlWarnings, expiryWarnings, subjectAltNameWarnings, webCaInTrustStoreWarnings, PlanWarning } from "./plan-warnings";

/**
 * The plan view of one synthesized stack: what it will create that a person should look at before
 * `terraform apply` (certificates, listeners, the allow-list, the UMS settings to paste), read back
 * from the stack's own cdk.tf.json and assets, so it shows what will be deployed rather than what
 * the config meant. Serialisable as it is (`ums-edge synth --json`).
 */

export interface StackPlan {
  readonly name: string;
  /** The stack's cdk.tf.json, absolute. */
  readonly file: string;
  readonly region?: string;
  /** undefined for a stack without a load balancer (ums-direct). */
  readonly loadBalancer?: { readonly name: string; readonly idleTimeoutSeconds: number };
  readonly listeners: readonly ListenerPlan[];
  readonly trustStores: readonly TrustStorePlan[];
  readonly webCertificates: readonly WebCertificatePlan[];
  readonly instances: readonly InstanceModel[];
  readonly outputs: readonly StackOutput[];
  /** The `ums_application_yml` output: the block to paste into the UMS (or ICG) application.yml. */
  readonly applicationYml?: string;
  readonly warnings: readonly PlanWarning[];
}

export interface ListenerPlan {
  readonly port: number;
  readonly protocol: "HTTPS" | "HTTP";
  readonly mtls: MtlsMode;
  /** ELB security policy (HTTPS only). */
  readonly tlsPolicy?: string;
  /** verify only. */
  readonly trustStore?: string;
  readonly ignoreClientCertificateExpiry: boolean;
  readonly advertiseTrustStoreCaNames: "on" | "off";
  /** The web certificate: its aws_acm_certificate address, or the ARN of one outside the stack. */
  readonly certificate?: string;
  /** The X-Amzn-Mtls-* headers the listener adds to forwarded requests, as named there (renamed or AWS's). */
  readonly headers: readonly { readonly key: MtlsHeaderKey; readonly name: string }[];
  /** Listener rules in evaluation order, then the default action: the path allow-list when it is on. */
  readonly rules: readonly RulePlan[];
  readonly defaultAction: string;
  /**
   * The path allow-list: on when the default action answers by itself (a fixed response) and rules
   * forward only the listed path patterns; off when everything is forwarded.
   */
  readonly allowList: { readonly on: boolean; readonly paths: readonly string[] };
}

export interface RulePlan {
  readonly priority: number;
  /** `path /device-connector/*, /webapp/*` (conditions joined with ` and `). */
  readonly when: string;
  /** `forward to ums-edge-uv-tg (HTTPS 8443)`, `fixed-response 404`. */
  readonly then: string;
}

export interface TrustStorePlan {
  readonly address: string;
  readonly bundleFile: string;
  readonly bundleBytes: number;
  readonly caCount: number;
  readonly cas: readonly CertificateSummary[];
  readonly crls: readonly CrlSummary[];
}

export interface CrlSummary {
  readonly file: string;
  readonly issuer: string;
  /** ISO 8601. */
  readonly thisUpdate: string;
  readonly nextUpdate?: string;
  /** Revoked serial numbers listed. */
  readonly entries: number;
}

export interface WebCertificatePlan {
  /** The aws_acm_certificate address, or the ARN of a certificate outside the stack (then nothing else is known). */
  readonly address: string;
  readonly certificate?: CertificateSummary;
  /** Subjects of the chain ACM serves, leaf first (certificate_body, then certificate_chain in file order). */
  readonly chainSubjects: readonly string[];
  readonly chain: readonly CertificateSummary[];
}

/** The output the stacks write the UMS's client-cert forwarding block to (stacks/edge-stack.ts, direct-stack.ts). */
export const APPLICATION_YML_OUTPUT = "ums_application_yml";

/** The headers each mTLS mode adds (ELB user guide, "Mutual authentication with TLS in Application Load Balancer", HTTP headers). */
const HEADERS_BY_MODE: Readonly<Record<MtlsMode, readonly MtlsHeaderKey[]>> = {
  off: [],
  passthrough: ["clientcert"],
  verify: ["serialNumber", "issuer", "subject", "validity", "leaf"],
};

function describeConditions(conditions: readonly ConditionModel[]): string {
  return conditions
    .map((c) => {
      switch (c.kind) {
        case "path-pattern": // wildcard patterns, regular expressions (regex_values), or both
          return [c.values.length ? `path ${c.values.join(", ")}` : "", c.regexValues?.length ? `path matches ${c.regexValues.join(", ")}` : ""].filter(Boolean).join(" or ");
        case "host-header":
          return `host ${c.values.join(", ")}`;
        case "http-request-method":
          return `method ${c.values.join(", ")}`;
        case "http-header":
          return `header ${c.name}: ${c.values.join(", ")}`;
      }
    })
    .join(" and ");
}

function describeActions(actions: readonly ActionModel[], stack: StackModel): string {
  return actions
    .map((a) => {
      if (a.type === "fixed-response") return `fixed-response ${a.statusCode}`;
      const tg = stack.targetGroups.get(a.targetGroup);
      return tg ? `forward to ${tg.name} (${tg.protocol} ${tg.port})` : `forward to ${a.targetGroup}`;
    })
    .join(", ");
}

function allowListOf(listener: ListenerModel): ListenerPlan["allowList"] {
  const forwards = (actions: readonly ActionModel[]) => actions.some((a) => a.type === "forward");
  const paths = listener.rules
    .filter((r) => forwards(r.actions))
    .flatMap((r) => r.conditions.flatMap((c) => (c.kind === "path-pattern" ? c.values : [])));
  return { on: !forwards(listener.defaultActions) && paths.length > 0, paths: [...new Set(paths)] };
}

/** The header as spelled in the stack (the model keeps names lower-case for matching): the rename, or AWS's name. */
function headerName(listener: ListenerModel, key: MtlsHeaderKey, raw: TfResource | undefined): string {
  const renamed = raw?.body[HEADER_RENAME_ATTRIBUTES[key]];
  if (typeof renamed === "string" && renamed.toLowerCase() === listener.headerNames[key]) return renamed;
  return listener.headerNames[key] === MTLS_HEADERS[key] ? MTLS_HEADER_DISPLAY[key] : listener.headerNames[key];
}

function planListener(listener: ListenerModel, stack: StackModel, reader: StackReader): ListenerPlan {
  const ma = listener.mutualAuthentication;
  const raw = reader.resources("aws_lb_listener").find((r) => r.address === listener.address);
  return {
    port: listener.port,
    protocol: listener.protocol,
    mtls: ma.mode,
    tlsPolicy: listener.sslPolicy,
    trustStore: ma.trustStore?.address,
    ignoreClientCertificateExpiry: ma.ignoreClientCertificateExpiry,
    advertiseTrustStoreCaNames: ma.advertiseTrustStoreCaNames,
    certificate: listener.certificate?.address ?? listener.certificateArn,
    headers: HEADERS_BY_MODE[ma.mode].map((key) => ({ key, name: headerName(listener, key, raw) })),
    rules: listener.rules.map((r) => ({ priority: r.priority, when: describeConditions(r.conditions), then: describeActions(r.actions, stack) })),
    defaultAction: describeActions(listener.defaultActions, stack),
    allowList: allowListOf(listener),
  };
}

/** Certificates of a PEM file; a warning instead when it cannot be read (the stack was edited by hand). */
function readCertificates(file: string, about: string, warnings: PlanWarning[]): X509Certificate[] {
  try {
    return certificatesFromPem(fs.readFileSync(file, "utf8"));
  } catch (e) {
    warnings.push({ code: "unreadable", about, message: `${file}: ${(e as Error).message}` });
    return [];
  }
}

function readCrlFile(file: string, warnings: PlanWarning[]): ParsedCrl[] {
  try {
    return parseCrls(fs.readFileSync(file, "utf8"));
  } catch (e) {
    warnings.push({ code: "unreadable", about: "CRL", message: `${file}: ${(e as Error).message}` });
    return [];
  }
}

interface Loaded<T> {
  readonly plan: T;
  readonly certificates: readonly X509Certificate[];
}

function planTrustStore(ts: TrustStoreModel, now: Date, warnings: PlanWarning[]): Loaded<TrustStorePlan> {
  const cas = readCertificates(ts.caBundleFile, "trust store CA bundle", warnings);
  const crls = ts.revocationFiles.flatMap((file) => readCrlFile(file, warnings).map((crl) => ({ file, crl })));
  warnings.push(...expiryWarnings("trust store CA", cas, now), ...crls.flatMap(({ crl }) => crlWarnings(crl, now)));
  return {
    certificates: cas,
    plan: {
      address: ts.address,
      bundleFile: ts.caBundleFile,
      bundleBytes: fs.statSync(ts.caBundleFile).size,
      caCount: cas.length,
      cas: cas.map((c) => summariseCertificate(c, now)),
      crls: crls.map(({ file, crl }) => ({
        file,
        issuer: crl.issuerName,
        thisUpdate: crl.thisUpdate.toISOString(),
        nextUpdate: crl.nextUpdate?.toISOString(),
        entries: crl.revokedSerials.size,
      })),
    },
  };
}

function planWebCertificate(cert: CertificateModel, now: Date, warnings: PlanWarning[]): Loaded<WebCertificatePlan> {
  const body = readCertificates(cert.bodyFile, "web certificate", warnings);
  const rest = cert.chainFile ? readCertificates(cert.chainFile, "web certificate chain", warnings) : [];
  const chain = [...body.slice(0, 1), ...rest];
  if (body[0]) warnings.push(...subjectAltNameWarnings(body[0]));
  warnings.push(...expiryWarnings("web certificate", chain, now));
  const summaries = chain.map((c) => summariseCertificate(c, now));
  return { certificates: chain, plan: { address: cert.address, certificate: summaries[0], chainSubjects: summaries.map((s) => s.subject), chain: summaries } };
}

/** The load-balancer part of a plan; nothing for a stack without one. */
function planFront(stackDir: string, now: Date, warnings: PlanWarning[]): Pick<StackPlan, "loadBalancer" | "listeners" | "trustStores" | "webCertificates"> {
  const reader = openStack(stackDir);
  if (reader.resources("aws_lb").length === 0) return { listeners: [], trustStores: [], webCertificates: [] };
  let stack: StackModel;
  try {
    stack = readStack(stackDir, { certificateOutsideStack: true });
  } catch (e) {
    if (!isUserError(e)) throw e;
    warnings.push({ code: "unreadable", about: "load balancer", message: e.message });
    return { listeners: [], trustStores: [], webCertificates: [] };
  }
  const trustStores = new Map<string, Loaded<TrustStorePlan>>();
  const web = new Map<string, Loaded<WebCertificatePlan>>();
  for (const l of stack.listeners) {
    const ts = l.mutualAuthentication.trustStore;
    if (ts && !trustStores.has(ts.address)) trustStores.set(ts.address, planTrustStore(ts, now, warnings));
    if (l.certificate && !web.has(l.certificate.address)) web.set(l.certificate.address, planWebCertificate(l.certificate, now, warnings));
    if (l.certificateArn && !web.has(l.certificateArn)) web.set(l.certificateArn, { certificates: [], plan: { address: l.certificateArn, chainSubjects: [], chain: [] } });
  }
  const webChain = [...web.values()].flatMap((w) => w.certificates);
  for (const ts of trustStores.values()) warnings.push(...webCaInTrustStoreWarnings(ts.certificates, webChain));
  return {
    loadBalancer: { name: stack.loadBalancer.name, idleTimeoutSeconds: stack.loadBalancer.idleTimeoutSeconds },
    listeners: stack.listeners.map((l) => planListener(l, stack, reader)),
    trustStores: [...trustStores.values()].map((t) => t.plan),
    webCertificates: [...web.values()].map((w) => w.plan),
  };
}

/** The plan view of the synthesized stack in `stackDir`. `now` decides what counts as expiring. */
export function planStack(stackDir: string, now = new Date()): StackPlan {
  const reader = openStack(stackDir);
  const warnings: PlanWarning[] = [];
  const front = planFront(stackDir, now, warnings);
  const outputs = listStackOutputs(stackDir);
  return {
    name: stackNameOf(reader),
    file: reader.file,
    region: regionOf(reader),
    ...front,
    instances: readInstances(stackDir),
    outputs,
    applicationYml: outputs.find((o) => o.name === APPLICATION_YML_OUTPUT)?.value,
    warnings,
  };
}
