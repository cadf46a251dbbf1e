import * as fs from "node:fs";
import * as path from "node:path";
import { MTLS_HEADERS, MtlsHeaderKey } from "../../core/aws-headers";
import { ProblemsError, UserError } from "../../core/errors";
import { ALB_ATTRIBUTE_DEFAULTS, DESYNC_MITIGATION_MODES, XFF_HEADER_PROCESSING_MODES } from "../../core/alb-defaults";
import { StackReader, TfResource } from "./stack-reader";
import { parseExpression } from "./expressions";
import type {
  ActionModel,
  CertificateModel,
  ConditionModel,
  HealthCheckModel,
  ListenerModel,
  LoadBalancerModel,
  LogSettings,
  MtlsMode,
  MutualAuthenticationModel,
  RuleModel,
  StackModel,
  TargetGroupModel,
  TrustStoreModel,
} from "./stack-model";

export const STACK_FILE = "cdk.tf.json";

/** The listener arguments that rename the mTLS headers (AWS provider v6), by header key. */
export const HEADER_RENAME_ATTRIBUTES: Readonly<Record<MtlsHeaderKey, string>> = {
  clientcert: "routing_http_request_x_amzn_mtls_clientcert_header_name",
  leaf: "routing_http_request_x_amzn_mtls_clientcert_leaf_header_name",
  serialNumber: "routing_http_request_x_amzn_mtls_clientcert_serial_number_header_name",
  issuer: "routing_http_request_x_amzn_mtls_clientcert_issuer_header_name",
  subject: "routing_http_request_x_amzn_mtls_clientcert_subject_header_name",
  validity: "routing_http_request_x_amzn_mtls_clientcert_validity_header_name",
};

/** AWS defaults of an ALB target group health check (ELB user guide, "Health check settings"). */
const HEALTH_DEFAULTS = { path: "/", matcher: "200", interval: 30, timeout: 5, healthy: 5, unhealthy: 2 } as const;

export interface ReadStackOptions {
  /**
   * Accept a listener certificate named by a literal ARN (an ACM certificate imported before, the
   * config's `webCertificateArn`): the listener keeps the ARN and has no certificate files. The
   * emulator cannot serve such a listener; a summary of the stack can still show it.
   * @default false
   */
  readonly certificateOutsideStack?: boolean;
}

/**
 * Reads the synthesized stack in `stackDir` (the directory holding cdk.tf.json) into a typed model.
 * Throws a UserError when the file is missing or not JSON, and one ProblemsError listing every
 * value the emulator needs but cannot resolve, each named by resource and attribute.
 */
export function readStack(stackDir: string, options: ReadStackOptions = {}): StackModel {
  const reader = openStack(stackDir);
  const model = buildModel(reader, options);
  if (reader.problems.length > 0 || !model) {
    throw new ProblemsError(reader.problems, `${reader.file}: the ALB emulator cannot use this stack:`);
  }
  return model;
}

/**
 * Parses the cdk.tf.json in `stackDir` (any stack, with or without a load balancer). Throws a
 * UserError when the directory or file is missing or not JSON.
 */
export function openStack(stackDir: string): StackReader {
  const dir = path.resolve(stackDir);
  const file = path.join(dir, STACK_FILE);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError(`${stackDir}: no such stack directory\n  fix: give a directory written by 'ums-edge synth', e.g. cdktf.out/stacks/ums-alb-verify`);
  }
  if (!fs.existsSync(file)) {
    throw new UserError(`${stackDir}: there is no ${STACK_FILE} in this directory\n  fix: run 'ums-edge synth' and give one of its stack directories, e.g. cdktf.out/stacks/ums-alb-verify`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})\n  fix: synthesize the stack again with 'ums-edge synth'`);
  }
  return new StackReader(file, dir, json);
}

/** The stack's outputs whose values are literal strings (values known only after apply are left out). */
export function readStackOutputs(stackDir: string): Readonly<Record<string, string>> {
  return Object.fromEntries(listStackOutputs(stackDir).flatMap((o) => (o.value === undefined ? [] : [[o.name, o.value]])));
}

export interface StackOutput {
  readonly name: string;
  /** The value when the stack states it literally; undefined when Terraform knows it only after apply. */
  readonly value?: string;
  readonly description?: string;
}

/** Every output of the stack in file order, literal or not (a summary names the ones known only after apply too). */
export function listStackOutputs(stackDir: string): StackOutput[] {
  const outputs = (openStack(stackDir).json.output ?? {}) as Record<string, { value?: unknown; description?: unknown }>;
  return Object.entries(outputs).map(([name, o]) => ({
    name,
    value: typeof o.value === "string" && !o.value.includes("${") ? o.value : undefined,
    description: typeof o.description === "string" ? o.description : undefined,
  }));
}

/** One literal output of the stack; a UserError naming the stack and output when it has none. */
export function readStackOutput(stackDir: string, name: string): string {
  const value = readStackOutputs(stackDir)[name];
  if (value === undefined) {
    throw new UserError(`${path.join(stackDir, STACK_FILE)}: the stack has no '${name}' output\n  fix: synthesize it again with this version of ums-edge (ums-edge synth)`);
  }
  return value;
}

/** The stack's name (`//.metadata.stackName`, else the directory name). */
export function stackNameOf(reader: StackReader): string {
  const meta = (reader.json["//"] as { metadata?: { stackName?: string } } | undefined)?.metadata;
  return meta?.stackName ?? path.basename(reader.dir);
}

/** `provider.aws[0].region` of the stack, when it is written literally. */
export function regionOf(reader: StackReader): string | undefined {
  const providers = ((reader.json.provider as Record<string, unknown> | undefined)?.aws ?? []) as Array<Record<string, unknown>>;
  const region = providers[0]?.region;
  return typeof region === "string" && !region.includes("${") ? region : undefined;
}

function buildModel(reader: StackReader, options: ReadStackOptions): StackModel | undefined {
  const name = stackNameOf(reader);
  const region = regionOf(reader);

  const lbs = reader.resources("aws_lb").filter((r) => (r.body.load_balancer_type ?? "application") === "application");
  if (lbs.length === 0) {
    reader.problems.push({
      file: reader.file,
      problem: "the stack has no Application Load Balancer (no aws_lb resource), so there is nothing to emulate",
      fix: "give the directory of an ALB stack (ums-alb-verify, ums-alb-passthrough, icg-alb-verify, icg-alb-passthrough); ums-direct has no load balancer",
    });
    return undefined;
  }
  if (lbs.length > 1) {
    reader.problem(lbs[1], undefined, `the stack has ${lbs.length} load balancers (${lbs.map((l) => l.address).join(", ")}); the emulator runs one`, "split the stack so that each has one aws_lb");
  }
  const lb = lbs[0];
  const loadBalancer = readLoadBalancer(reader, lb);

  const targetGroups = new Map<string, TargetGroupModel>();
  for (const tg of reader.resources("aws_lb_target_group")) {
    const model = readTargetGroup(reader, tg);
    if (model) targetGroups.set(tg.address, model);
  }

  const listeners: ListenerModel[] = [];
  for (const l of reader.resources("aws_lb_listener")) {
    const owner = reader.link(l, "load_balancer_arn", l.body.load_balancer_arn, ["aws_lb"], "the load balancer");
    if (owner && owner !== lb) continue;
    const model = readListener(reader, l, targetGroups, options);
    if (model) listeners.push(model);
  }
  listeners.sort((a, b) => a.port - b.port);
  const seen = new Set<number>();
  for (const l of listeners) {
    if (seen.has(l.port)) reader.problem(l.address, "port", `port ${l.port} is used by two listeners`);
    seen.add(l.port);
  }
  return { name, dir: reader.dir, file: reader.file, region, loadBalancer, listeners, targetGroups };
}

function readLogSettings(reader: StackReader, lb: TfResource, key: "access_logs" | "connection_logs"): LogSettings {
  const block = reader.block(lb.body, key);
  if (!block) return { enabled: false, prefix: "" };
  const enabled = reader.scalar(lb, `${key}.enabled`, block.enabled, "boolean", true) ?? false;
  const prefix = reader.scalar(lb, `${key}.prefix`, block.prefix, "string", "") ?? "";
  return { enabled, prefix: prefix.replace(/^\/+|\/+$/g, "") };
}

/** A string attribute that must be one of `allowed`; AWS's default when absent or unreadable. */
function oneOf<T extends string>(reader: StackReader, lb: TfResource, attribute: string, allowed: readonly T[], fallback: T): T {
  const value = reader.scalar(lb, attribute, lb.body[attribute], "string", fallback) ?? fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  reader.problem(lb, attribute, `'${value}' is not one of ${allowed.join(", ")}`, `use one of ${allowed.join(", ")}`);
  return fallback;
}

function readLoadBalancer(reader: StackReader, lb: TfResource): LoadBalancerModel {
  const d = ALB_ATTRIBUTE_DEFAULTS;
  const flag = (attribute: string, fallback: boolean) => reader.scalar(lb, attribute, lb.body[attribute], "boolean", fallback) ?? fallback;
  return {
    address: lb.address,
    name: reader.scalar(lb, "name", lb.body.name, "string", lb.name) ?? lb.name,
    idleTimeoutSeconds: reader.scalar(lb, "idle_timeout", lb.body.idle_timeout, "number", d.idleTimeoutSeconds) ?? d.idleTimeoutSeconds,
    clientKeepAliveSeconds: reader.scalar(lb, "client_keep_alive", lb.body.client_keep_alive, "number", d.clientKeepAliveSeconds) ?? d.clientKeepAliveSeconds,
    dropInvalidHeaderFields: flag("drop_invalid_header_fields", d.dropInvalidHeaderFields),
    xffHeaderProcessingMode: oneOf(reader, lb, "xff_header_processing_mode", XFF_HEADER_PROCESSING_MODES, d.xffHeaderProcessingMode),
    enableXffClientPort: flag("enable_xff_client_port", d.enableXffClientPort),
    preserveHostHeader: flag("preserve_host_header", d.preserveHostHeader),
    desyncMitigationMode: oneOf(reader, lb, "desync_mitigation_mode", DESYNC_MITIGATION_MODES, d.desyncMitigationMode),
    accessLogs: readLogSettings(reader, lb, "access_logs"),
    connectionLogs: readLogSettings(reader, lb, "connection_logs"),
  };
}

function protocolOf(reader: StackReader, owner: TfResource, attribute: string, value: unknown, fallback: "HTTP" | "HTTPS"): "HTTP" | "HTTPS" | undefined {
  const p = reader.scalar(owner, attribute, value, "string", fallback);
  if (p === undefined) return undefined;
  if (p !== "HTTP" && p !== "HTTPS") {
    reader.problem(owner, attribute, `'${p}' is not an Application Load Balancer protocol`, "use HTTP or HTTPS");
    return undefined;
  }
  return p;
}

function readTargetGroup(reader: StackReader, tg: TfResource): TargetGroupModel | undefined {
  const protocol = protocolOf(reader, tg, "protocol", tg.body.protocol, "HTTP");
  const port = reader.scalar(tg, "port", tg.body.port, "number", protocol === "HTTPS" ? 443 : 80);
  const hc = reader.block(tg.body, "health_check") ?? {};
  const at = (k: string) => `health_check.${k}`;
  const hcPortRaw = reader.scalar(tg, at("port"), hc.port, "string", "traffic-port");
  const healthCheck: HealthCheckModel = {
    enabled: reader.scalar(tg, at("enabled"), hc.enabled, "boolean", true) ?? true,
    protocol: protocolOf(reader, tg, at("protocol"), hc.protocol, "HTTP") ?? "HTTP",
    path: reader.scalar(tg, at("path"), hc.path, "string", HEALTH_DEFAULTS.path) ?? HEALTH_DEFAULTS.path,
    port: hcPortRaw === undefined || hcPortRaw === "traffic-port" ? "traffic-port" : Number(hcPortRaw),
    matcher: reader.scalar(tg, at("matcher"), hc.matcher, "string", HEALTH_DEFAULTS.matcher) ?? HEALTH_DEFAULTS.matcher,
    intervalSeconds: reader.scalar(tg, at("interval"), hc.interval, "number", HEALTH_DEFAULTS.interval) ?? HEALTH_DEFAULTS.interval,
    timeoutSeconds: reader.scalar(tg, at("timeout"), hc.timeout, "number", HEALTH_DEFAULTS.timeout) ?? HEALTH_DEFAULTS.timeout,
    healthyThreshold: reader.scalar(tg, at("healthy_threshold"), hc.healthy_threshold, "number", HEALTH_DEFAULTS.healthy) ?? HEALTH_DEFAULTS.healthy,
    unhealthyThreshold: reader.scalar(tg, at("unhealthy_threshold"), hc.unhealthy_threshold, "number", HEALTH_DEFAULTS.unhealthy) ?? HEALTH_DEFAULTS.unhealthy,
  };
  if (!/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(healthCheck.matcher)) {
    reader.problem(tg, at("matcher"), `'${healthCheck.matcher}' is not a list of HTTP codes`, "use codes like 200, 200,202 or 200-299");
  }
  const targets = reader
    .resources("aws_lb_target_group_attachment")
    .filter((a) => {
      const r = reader.resolve(a, "target_group_arn", a.body.target_group_arn);
      return r?.kind === "resource" && r.resource === tg;
    })
    .map((a) => ({ address: a.address, targetId: String(a.body.target_id ?? ""), port: reader.scalar(a, "port", a.body.port, "number", port ?? 0) }));
  if (port === undefined || protocol === undefined) return undefined;
  return { address: tg.address, name: reader.scalar(tg, "name", tg.body.name, "string", tg.name) ?? tg.name, protocol, port, healthCheck, targets };
}

/** A literal ACM certificate ARN, when the listener names one from outside the stack. */
function certificateArnOutsideStack(listener: TfResource): string | undefined {
  const expr = parseExpression(listener.body.certificate_arn);
  return expr.kind === "literal" && typeof expr.value === "string" && expr.value.startsWith("arn:") ? expr.value : undefined;
}

function readCertificate(reader: StackReader, listener: TfResource): CertificateModel | undefined {
  const acm = reader.link(listener, "certificate_arn", listener.body.certificate_arn, ["aws_acm_certificate"], "the listener's certificate");
  if (!acm) return undefined;
  const bodyFile = reader.asset(acm, "certificate_body", acm.body.certificate_body, "file");
  const privateKeyFile = reader.asset(acm, "private_key", acm.body.private_key, "file");
  const chainFile = acm.body.certificate_chain === undefined ? undefined : reader.asset(acm, "certificate_chain", acm.body.certificate_chain, "file");
  if (!bodyFile || !privateKeyFile) return undefined;
  return { address: acm.address, bodyFile, privateKeyFile, chainFile };
}

/** The aws_s3_object holding a bucket/key pair: a reference to the object, or a literal key matched by bucket and key. */
function s3Object(reader: StackReader, owner: TfResource, bucketAttr: string, keyAttr: string): TfResource | undefined {
  const keyValue = owner.body[keyAttr];
  if (keyValue === undefined) {
    reader.problem(owner, keyAttr, "is missing");
    return undefined;
  }
  const r = reader.resolve(owner, keyAttr, keyValue);
  if (!r) return undefined;
  const keyExpr = typeof keyValue === "string" ? keyValue : "";
  const direct = /^\$\{aws_s3_object\.([A-Za-z0-9_-]+)\.key\}$/.exec(keyExpr);
  if (direct) {
    const obj = reader.resource("aws_s3_object", direct[1]);
    if (obj) return obj;
  }
  if (r.kind === "value" && typeof r.value === "string") {
    const bucket = owner.body[bucketAttr];
    const found = reader.resources("aws_s3_object").find((o) => o.body.key === r.value && o.body.bucket === bucket);
    if (found) return found;
    reader.problem(owner, keyAttr, `no aws_s3_object in the stack uploads '${r.value}' to the bucket ${String(bucket)}; the object the listener needs is missing`, "let the stack upload the file (synthesize it with ums-edge synth)");
    return undefined;
  }
  reader.problem(owner, keyAttr, "does not name an aws_s3_object of the stack", "let the stack upload the file (synthesize it with ums-edge synth)");
  return undefined;
}

function readTrustStore(reader: StackReader, listener: TfResource, arn: unknown): TrustStoreModel | undefined {
  const ts = reader.link(listener, "mutual_authentication.trust_store_arn", arn, ["aws_lb_trust_store"], "a trust store");
  if (!ts) return undefined;
  const bundleObject = s3Object(reader, ts, "ca_certificates_bundle_s3_bucket", "ca_certificates_bundle_s3_key");
  const caBundleFile = bundleObject ? reader.asset(bundleObject, "source", bundleObject.body.source, "source") : undefined;
  const revocationFiles: string[] = [];
  for (const rev of reader.resources("aws_lb_trust_store_revocation")) {
    const r = reader.resolve(rev, "trust_store_arn", rev.body.trust_store_arn);
    if (r?.kind !== "resource" || r.resource !== ts) continue;
    const obj = s3Object(reader, rev, "revocations_s3_bucket", "revocations_s3_key");
    const file = obj ? reader.asset(obj, "source", obj.body.source, "source") : undefined;
    if (file) revocationFiles.push(file);
  }
  if (!caBundleFile) return undefined;
  return { address: ts.address, caBundleFile, revocationFiles };
}

function readMutualAuthentication(reader: StackReader, listener: TfResource): MutualAuthenticationModel | undefined {
  const block = reader.block(listener.body, "mutual_authentication");
  if (!block) return { mode: "off", ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: "off" };
  const mode = reader.scalar(listener, "mutual_authentication.mode", block.mode, "string", "off");
  if (mode !== "off" && mode !== "passthrough" && mode !== "verify") {
    if (mode !== undefined) reader.problem(listener, "mutual_authentication.mode", `'${mode}' is not an mTLS mode`, "use off, passthrough or verify");
    return undefined;
  }
  const ignoreClientCertificateExpiry = reader.scalar(listener, "mutual_authentication.ignore_client_certificate_expiry", block.ignore_client_certificate_expiry, "boolean", false) ?? false;
  const advertise = reader.scalar(listener, "mutual_authentication.advertise_trust_store_ca_names", block.advertise_trust_store_ca_names, "string", "off") ?? "off";
  if (mode !== "verify") return { mode: mode as MtlsMode, ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: "off" };
  if (block.trust_store_arn === undefined) {
    reader.problem(listener, "mutual_authentication.trust_store_arn", "is missing; a verify listener needs a trust store", "set trust_store_arn to the stack's aws_lb_trust_store");
    return undefined;
  }
  const trustStore = readTrustStore(reader, listener, block.trust_store_arn);
  if (!trustStore) return undefined;
  return { mode, trustStore, ignoreClientCertificateExpiry, advertiseTrustStoreCaNames: advertise === "on" ? "on" : "off" };
}

function readActions(reader: StackReader, owner: TfResource, attribute: string, list: Array<Record<string, unknown>>, targetGroups: ReadonlyMap<string, TargetGroupModel>): ActionModel[] | undefined {
  if (list.length === 0) {
    reader.problem(owner, attribute, "has no action");
    return undefined;
  }
  const actions: ActionModel[] = [];
  list.forEach((a, i) => {
    const at = `${attribute}[${i}]`;
    const type = reader.scalar(owner, `${at}.type`, a.type, "string");
    if (type === "forward") {
      let arn = a.target_group_arn;
      if (arn === undefined) {
        const groups = reader.blocks(reader.block(a, "forward") ?? {}, "target_group");
        if (groups.length > 1) reader.problem(owner, `${at}.forward.target_group`, `weighted forwarding to ${groups.length} target groups is not emulated`, "forward to one target group");
        arn = groups[0]?.arn;
      }
      const tg = reader.link(owner, `${at}.target_group_arn`, arn, ["aws_lb_target_group"], "a target group");
      if (tg && targetGroups.has(tg.address)) actions.push({ type: "forward", targetGroup: tg.address });
    } else if (type === "fixed-response") {
      const fr = reader.block(a, "fixed_response") ?? {};
      const status = reader.scalar(owner, `${at}.fixed_response.status_code`, fr.status_code, "number");
      const contentType = reader.scalar(owner, `${at}.fixed_response.content_type`, fr.content_type, "string", "text/plain") ?? "text/plain";
      const messageBody = reader.scalar(owner, `${at}.fixed_response.message_body`, fr.message_body, "string", "") ?? "";
      if (status !== undefined) actions.push({ type: "fixed-response", statusCode: status, contentType, messageBody });
    } else if (type !== undefined) {
      reader.problem(owner, `${at}.type`, `the action '${type}' is not emulated (forward and fixed-response are)`, "use forward or fixed-response actions");
    }
  });
  return actions.length === list.length ? actions : undefined;
}

function readConditions(reader: StackReader, rule: TfResource): ConditionModel[] | undefined {
  const list = reader.blocks(rule.body, "condition");
  const out: ConditionModel[] = [];
  let ok = true;
  list.forEach((c, i) => {
    const at = `condition[${i}]`;
    const values = (block: Record<string, unknown> | undefined, key: string, attribute = "values"): string[] | undefined => {
      const v = block?.[attribute];
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.includes("${"))) {
        reader.problem(rule, `${at}.${key}.${attribute}`, "must be a list of literal strings");
        return undefined;
      }
      return v as string[];
    };
    const path = reader.block(c, "path_pattern");
    const host = reader.block(c, "host_header");
    const method = reader.block(c, "http_request_method");
    const header = reader.block(c, "http_header");
    let parsed: ConditionModel | undefined;
    if (path && path.regex_values !== undefined) {
      parsed = { kind: "path-pattern", values: path.values === undefined ? [] : (values(path, "path_pattern") ?? []), regexValues: values(path, "path_pattern", "regex_values") ?? [] };
    } else if (path) parsed = { kind: "path-pattern", values: values(path, "path_pattern") ?? [] };
    else if (host) parsed = { kind: "host-header", values: values(host, "host_header") ?? [] };
    else if (method) parsed = { kind: "http-request-method", values: values(method, "http_request_method") ?? [] };
    else if (header) parsed = { kind: "http-header", name: String(header.http_header_name ?? "").toLowerCase(), values: values(header, "http_header") ?? [] };
    else {
      reader.problem(rule, at, `the condition ${Object.keys(c).join(", ") || "(empty)"} is not emulated (path_pattern, host_header, http_request_method and http_header are)`, "use one of the emulated conditions");
      ok = false;
      return;
    }
    out.push(parsed);
  });
  return ok ? out : undefined;
}

function readRules(reader: StackReader, listener: TfResource, targetGroups: ReadonlyMap<string, TargetGroupModel>): RuleModel[] {
  const rules: RuleModel[] = [];
  for (const rule of reader.resources("aws_lb_listener_rule")) {
    const r = reader.resolve(rule, "listener_arn", rule.body.listener_arn);
    if (r?.kind !== "resource" || r.resource !== listener) continue;
    const priority = reader.scalar(rule, "priority", rule.body.priority, "number");
    const conditions = readConditions(reader, rule);
    const actions = readActions(reader, rule, "action", reader.blocks(rule.body, "action") as Array<Record<string, unknown>>, targetGroups);
    if (priority !== undefined && conditions && actions) rules.push({ address: rule.address, priority, conditions, actions });
  }
  rules.sort((a, b) => a.priority - b.priority);
  for (let i = 1; i < rules.length; i++) {
    if (rules[i].priority === rules[i - 1].priority) reader.problem(rules[i].address, "priority", `priority ${rules[i].priority} is also used by ${rules[i - 1].address} on the same listener`, "give each rule of a listener its own priority");
  }
  return rules;
}

function readListener(reader: StackReader, l: TfResource, targetGroups: ReadonlyMap<string, TargetGroupModel>, options: ReadStackOptions): ListenerModel | undefined {
  const port = reader.scalar(l, "port", l.body.port, "number");
  const protocol = protocolOf(reader, l, "protocol", l.body.protocol, "HTTP");
  if (port === undefined || protocol === undefined) return undefined;
  const https = protocol === "HTTPS";
  const sslPolicy = https ? reader.scalar(l, "ssl_policy", l.body.ssl_policy, "string", "ELBSecurityPolicy-2016-08") : undefined;
  const certificateArn = https && options.certificateOutsideStack ? certificateArnOutsideStack(l) : undefined;
  const certificate = https && !certificateArn ? readCertificate(reader, l) : undefined;
  const mutualAuthentication = https ? readMutualAuthentication(reader, l) : { mode: "off" as const, ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: "off" as const };
  const headerNames = Object.fromEntries(
    (Object.keys(HEADER_RENAME_ATTRIBUTES) as MtlsHeaderKey[]).map((key) => {
      const attr = HEADER_RENAME_ATTRIBUTES[key];
      const renamed = l.body[attr] === undefined ? undefined : reader.scalar(l, attr, l.body[attr], "string");
      return [key, (renamed ?? MTLS_HEADERS[key]).toLowerCase()];
    }),
  ) as Record<MtlsHeaderKey, string>;
  const defaultActions = readActions(reader, l, "default_action", reader.blocks(l.body, "default_action") as Array<Record<string, unknown>>, targetGroups);
  const rules = readRules(reader, l, targetGroups);
  if ((https && !certificate && !certificateArn) || !mutualAuthentication || !defaultActions) return undefined;
  return { address: l.address, port, protocol, sslPolicy, certificate, certificateArn, mutualAuthentication, headerNames, rules, defaultActions };
}
