import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { configSchema, RawConfig, RawStack, HeaderNames, LoadBalancerOptions, HealthCheckOptions } from "./schema";
import { STACK_VARIANT, StackVariant, MtlsMode } from "../../core/stack-variants";
import type { Backend } from "../../core/igel";
import { ALB_ATTRIBUTE_DEFAULTS, MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER } from "../../core/alb-defaults";
import { checkClientCaChain, checkCrl, checkWebCertificate, CheckResult, FileRef, Notice } from "./certificate-checks";
import { formatProblem, Problem, ProblemsError } from "../../core/errors";
import { heartbeatIdleFinding } from "../../core/heartbeat-idle";

export type { Notice } from "./certificate-checks";

export interface ListenerSpec {
  readonly port: number;
  readonly mtls: MtlsMode | "off";
}

/**
 * One stack as the config states it. Options left out stay undefined: their defaults are the
 * constructs' (`@default` in stacks/*.ts), so they are written down once.
 */
export interface StackSpec {
  readonly variant: StackVariant;
  readonly backend: Backend;
  /** undefined: no ALB (ums-direct). */
  readonly mtlsMode?: MtlsMode;
  readonly pathAllowList?: boolean;
  readonly sslPolicy?: string;
  readonly ignoreClientCertificateExpiry?: boolean;
  readonly advertiseTrustStoreCaNames?: "on" | "off";
  readonly headerNames: HeaderNames;
  /** Every listener when the config changes any (a port, an extra listener); undefined: the variant's. */
  readonly listeners?: Readonly<Record<string, ListenerSpec>>;
  readonly loadBalancer: LoadBalancerOptions;
  readonly healthCheck: HealthCheckOptions;
}

export interface CertificateSources {
  /** Absolute paths. */
  readonly clientCaChain?: string;
  readonly crl?: string;
  readonly web?: { readonly privateKey: string; readonly headOnlyBody: string; readonly entireChain: string };
  /** ACM's `certificate_chain` for `web` (PEM text): the intermediates in order, issuer of the body first; undefined when there are none. */
  readonly webAcmChain?: string;
  readonly webCertificateArn?: string;
}

/** The files a lab PKI provides. */
export interface LabPkiFiles {
  readonly clientCaChain: string;
  readonly crl: string;
  readonly web: { readonly privateKey: string; readonly headOnlyBody: string; readonly entireChain: string };
}

/**
 * Turns a config's `certificates.labPki` directory into certificate files. The loader itself never
 * writes: callers that may create a test PKI (ums-edge synth, the simulation) pass one that does.
 */
export type LabPkiProvider = (dir: string, fqdn: string) => Promise<LabPkiFiles>;

export interface LoadConfigOptions {
  /** How `certificates.labPki` becomes files. @default none: a config naming labPki is refused */
  readonly labPki?: LabPkiProvider;
}

export interface EdgeConfig {
  /** The config file, absolute. */
  readonly file: string;
  readonly project: string;
  readonly region: string;
  readonly network: {
    readonly vpcId: string;
    readonly albSubnetIds: readonly string[];
    /** Where the servers go, in turn: one subnet for a single server, the ALB subnets for several. */
    readonly instanceSubnetIds: readonly string[];
    readonly deviceCidrs: readonly string[];
  };
  readonly cluster: { readonly fqdn: string };
  readonly certificates: CertificateSources;
  readonly instance: {
    readonly type?: string;
    readonly keyName?: string;
    readonly rootVolumeGiB?: number;
    readonly count?: number;
    readonly adminCidrs?: readonly string[];
    readonly ssm?: boolean;
  };
  readonly logs: { readonly prefix?: string; readonly forceDestroy?: boolean; readonly healthCheckLogs?: boolean };
  readonly state: { readonly s3?: { readonly bucket: string; readonly key: string; readonly region: string } };
  readonly devices: { readonly heartbeatSeconds?: number };
  readonly stacks: readonly StackSpec[];
  /** Warnings and notes found while loading: nothing refused, but worth reading (synth prints them). */
  readonly notices: readonly Notice[];
}

/** A notice as one printable block: `warning: <file>: <field>: <text>` (and its fix). */
export function formatNotice(n: Notice): string {
  return `${n.level}: ${formatProblem(n)}`;
}

function fieldOf(p: ReadonlyArray<PropertyKey>): string {
  return p.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i ? "." : ""}${String(k)}`)).join("");
}

function fixFor(issue: z.core.$ZodIssue): string | undefined {
  switch (issue.code) {
    case "unrecognized_keys":
      return "remove it or correct its spelling (README.md, 'Configuration reference', lists every field)";
    case "invalid_type":
      return issue.input === undefined ? "add this required field" : `give a ${issue.expected}`;
    case "invalid_value":
      return `use one of: ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return issue.origin === "number" ? `give a number of at least ${issue.minimum}` : undefined;
    case "too_big":
      return issue.origin === "number" ? `give a number of at most ${issue.maximum}` : undefined;
    default:
      return undefined;
  }
}

function schemaProblems(file: string, error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => ({ file, field: fieldOf([...issue.path, k]), problem: "unknown field", fix: fixFor(issue) }));
    }
    const problem = issue.code === "invalid_type" && issue.input === undefined ? "required field is missing" : issue.message;
    return [{ file, field: fieldOf(issue.path) || "(top level)", problem, fix: fixFor(issue) }];
  });
}

const LOAD_BALANCER_ONLY = ["pathAllowList", "sslPolicy", "headerNames", "listeners", "loadBalancer", "healthCheck", "ignoreClientCertificateExpiry", "advertiseTrustStoreCaNames"] as const;
const VERIFY_ONLY: ReadonlyArray<keyof RawStack> = ["ignoreClientCertificateExpiry", "advertiseTrustStoreCaNames"];
const VERIFY_HEADERS: ReadonlyArray<keyof HeaderNames> = ["leaf", "serialNumber", "issuer", "subject", "validity"];

function stackProblems(file: string, raw: RawStack, index: number): Problem[] {
  const facts = STACK_VARIANT[raw.variant];
  const at = (field: string) => `stacks[${index}].${field}`;
  const problems: Problem[] = [];
  if (!facts.mtlsMode) {
    for (const key of LOAD_BALANCER_ONLY) {
      if (raw[key] !== undefined) {
        problems.push({ file, field: at(key), problem: `'${raw.variant}' has no load balancer, so '${key}' does not apply`, fix: "remove it from this stack" });
      }
    }
    return problems;
  }
  if (facts.mtlsMode === "passthrough") {
    for (const key of VERIFY_ONLY) {
      if (raw[key] !== undefined) {
        problems.push({
          file,
          field: at(key),
          problem: `only valid when the mTLS mode is 'verify'; '${raw.variant}' uses 'passthrough' (the AWS provider refuses it there)`,
          fix: "remove it from this stack, or use the matching -verify variant",
        });
      }
    }
    for (const key of VERIFY_HEADERS) {
      if (raw.headerNames?.[key] !== undefined) {
        problems.push({ file, field: at(`headerNames.${key}`), problem: "a passthrough listener adds only the X-Amzn-Mtls-Clientcert header", fix: "rename 'clientcert' instead, or remove it" });
      }
    }
  } else if (raw.headerNames?.clientcert !== undefined) {
    problems.push({ file, field: at("headerNames.clientcert"), problem: "a verify listener does not add X-Amzn-Mtls-Clientcert (that is the passthrough header)", fix: "rename 'leaf' (and the other verify headers) instead, or remove it" });
  }
  const hc = raw.healthCheck;
  if (hc && (hc.timeoutSeconds ?? 5) >= (hc.intervalSeconds ?? 30)) {
    problems.push({ file, field: at("healthCheck.timeoutSeconds"), problem: `${hc.timeoutSeconds ?? 5} s is not less than the interval (${hc.intervalSeconds ?? 30} s); AWS requires the timeout to be shorter`, fix: "lower healthCheck.timeoutSeconds or raise healthCheck.intervalSeconds" });
  }
  return problems;
}

/** The variant's listeners with the config's changes, and what is wrong with those changes. */
function resolveListeners(file: string, raw: RawStack, index: number): { listeners?: Record<string, ListenerSpec>; problems: Problem[] } {
  const facts = STACK_VARIANT[raw.variant];
  const mode = facts.mtlsMode;
  if (!raw.listeners || !mode) return { problems: [] };
  const at = (field: string) => `stacks[${index}].listeners${field}`;
  const problems: Problem[] = [];
  const listeners: Record<string, ListenerSpec> = Object.fromEntries(facts.listeners.map((l) => [l.name, { port: l.port, mtls: l.mtls }]));
  for (const [name, given] of Object.entries(raw.listeners)) {
    const known = listeners[name];
    if (known && facts.listeners.some((l) => l.name === name)) {
      if (given.mtls !== undefined && given.mtls !== known.mtls) {
        problems.push({ file, field: at(`.${name}.mtls`), problem: `'${name}' is the variant's listener with mtls '${known.mtls}'; only its port can change`, fix: `remove 'mtls', or add a listener under another name` });
      }
      listeners[name] = { port: given.port ?? known.port, mtls: known.mtls };
      continue;
    }
    if (given.port === undefined) problems.push({ file, field: at(`.${name}.port`), problem: "required for a listener the variant does not have", fix: "give its port" });
    if (given.mtls === undefined) {
      problems.push({ file, field: at(`.${name}.mtls`), problem: "required for a listener the variant does not have", fix: `use 'off' or '${mode}'` });
    } else if (given.mtls !== "off" && given.mtls !== mode) {
      problems.push({
        file,
        field: at(`.${name}.mtls`),
        problem: `'${given.mtls}' on a '${mode}' stack: the backend reads one forwarded header, so every mTLS listener of a load balancer uses the stack's mode`,
        fix: `use 'off' or '${mode}', or put this listener on a -${given.mtls} stack`,
      });
    }
    if (given.port !== undefined && given.mtls !== undefined) listeners[name] = { port: given.port, mtls: given.mtls };
  }
  const byPort = new Map<number, string>();
  for (const [name, l] of Object.entries(listeners)) {
    const other = byPort.get(l.port);
    if (other) problems.push({ file, field: at(`.${name}.port`), problem: `port ${l.port} is also used by listener '${other}'`, fix: "give each listener its own port" });
    byPort.set(l.port, name);
  }
  const verify = Object.entries(listeners).filter(([, l]) => l.mtls === "verify").map(([n]) => n);
  if (verify.length > MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER) {
    // ELB user guide, "Quotas for your Application Load Balancers" > Trust stores.
    problems.push({
      file,
      field: at(""),
      problem: `would give the load balancer ${verify.length} listeners with mTLS verify (${verify.join(", ")}); AWS allows at most ${MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER} per load balancer`,
      fix: `keep at most ${MAX_VERIFY_LISTENERS_PER_LOAD_BALANCER} verify listeners (set the others' mtls to 'off', or put them on a second stack)`,
    });
  }
  return { listeners, problems };
}

function toSpec(raw: RawStack, listeners: Record<string, ListenerSpec> | undefined): StackSpec {
  const facts = STACK_VARIANT[raw.variant];
  return {
    variant: raw.variant,
    backend: facts.backend,
    mtlsMode: facts.mtlsMode,
    pathAllowList: raw.pathAllowList,
    sslPolicy: raw.sslPolicy,
    ignoreClientCertificateExpiry: raw.ignoreClientCertificateExpiry,
    advertiseTrustStoreCaNames: raw.advertiseTrustStoreCaNames,
    headerNames: raw.headerNames ?? {},
    listeners,
    loadBalancer: raw.loadBalancer ?? {},
    healthCheck: raw.healthCheck ?? {},
  };
}

/** The heartbeat rule (core/heartbeat-idle.ts) for each load-balanced stack of the config. */
function idleTimeoutWarnings(file: string, raw: RawConfig, stacks: readonly StackSpec[]): Notice[] {
  const heartbeat = raw.devices?.heartbeatSeconds;
  if (heartbeat === undefined) return [];
  return stacks.flatMap((s, i) => {
    if (!s.mtlsMode) return [];
    const field = `stacks[${i}].loadBalancer.idleTimeoutSeconds`;
    const finding = heartbeatIdleFinding(s.loadBalancer.idleTimeoutSeconds ?? ALB_ATTRIBUTE_DEFAULTS.idleTimeoutSeconds, heartbeat, {
      subject: `the '${s.variant}' load balancer`,
      heartbeatSource: "devices.heartbeatSeconds",
      idleField: field,
      idleDefaulted: s.loadBalancer.idleTimeoutSeconds === undefined ? "AWS's default" : undefined,
    });
    return finding ? [{ level: "warning" as const, file, field, ...finding }] : [];
  });
}

function parseYaml(file: string, text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ProblemsError(
      doc.errors.map((e) => ({
        file: e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file,
        problem: `not valid YAML: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
        fix: "correct the YAML syntax (indentation with spaces, 'key: value')",
      })),
      `${file} is not valid YAML:`,
    );
  }
  return doc.toJS();
}

/**
 * Reads, validates and resolves a config file. Every problem found (schema, cross-field and
 * certificate files) is reported at once, before anything is synthesized. Reads files only: it
 * writes nothing (a lab PKI comes from the provider the caller passes).
 */
export async function loadConfig(configFile: string, options: LoadConfigOptions = {}): Promise<EdgeConfig> {
  const file = path.resolve(configFile);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ProblemsError([{ file: configFile, problem: `cannot read the config file (${(e as NodeJS.ErrnoException).code})`, fix: "give the path of an existing YAML file with --config" }]);
  }
  const parsed = configSchema.safeParse(parseYaml(configFile, text) ?? {});
  if (!parsed.success) throw new ProblemsError(schemaProblems(configFile, parsed.error), `${configFile} is not a valid ums-edge configuration:`);
  return resolveConfig(configFile, file, parsed.data, options);
}

async function resolveConfig(configFile: string, file: string, raw: RawConfig, options: LoadConfigOptions): Promise<EdgeConfig> {
  const problems: Problem[] = [];
  const heading = `${configFile} is not a valid ums-edge configuration:`;
  raw.stacks.forEach((s, i) => problems.push(...stackProblems(configFile, s, i)));
  const seen = new Set<string>();
  raw.stacks.forEach((s, i) => {
    if (seen.has(s.variant)) problems.push({ file: configFile, field: `stacks[${i}].variant`, problem: `'${s.variant}' is listed twice`, fix: "list each variant once" });
    seen.add(s.variant);
  });
  const stacks = raw.stacks.map((s, i) => {
    const resolved = resolveListeners(configFile, s, i);
    problems.push(...resolved.problems);
    return toSpec(s, resolved.listeners);
  });
  const withAlb = stacks.some((s) => s.mtlsMode);
  const withVerify = stacks.some((s) => s.mtlsMode === "verify");

  const subnets = raw.network.albSubnetIds ?? [];
  if (withAlb && subnets.length < 2) {
    problems.push({
      file: configFile,
      field: "network.albSubnetIds",
      problem: `an Application Load Balancer needs subnets in at least two Availability Zones; ${subnets.length} given`,
      fix: "list two or more public subnet IDs in different Availability Zones",
    });
  }
  const count = raw.instance?.count ?? 1;
  let instanceSubnetIds: string[] = [];
  if (count > 1) {
    instanceSubnetIds = subnets;
    if (raw.network.instanceSubnetId) {
      problems.push({
        file: configFile,
        field: "network.instanceSubnetId",
        problem: `set together with instance.count ${count}; several servers are spread over network.albSubnetIds (their Availability Zones, in turn)`,
        fix: "remove network.instanceSubnetId, or set instance.count to 1",
      });
    }
    const direct = raw.stacks.findIndex((s) => !STACK_VARIANT[s.variant].mtlsMode);
    if (direct >= 0) {
      problems.push({
        file: configFile,
        field: "instance.count",
        problem: `${count} servers, but '${raw.stacks[direct].variant}' (stacks[${direct}]) has no load balancer to spread devices over them`,
        fix: "set instance.count to 1, or remove the ums-direct stack",
      });
    }
  } else {
    const instanceSubnetId = raw.network.instanceSubnetId ?? subnets[0];
    if (instanceSubnetId) instanceSubnetIds = [instanceSubnetId];
    else problems.push({ file: configFile, field: "network.instanceSubnetId", problem: "no subnet for the UMS instance", fix: "set network.instanceSubnetId (or network.albSubnetIds)" });
  }

  const dir = path.dirname(file);
  const c = raw.certificates;
  const explicitFiles = c.clientCaChain ?? c.crl ?? c.web;
  if (c.labPki && explicitFiles) {
    problems.push({ file: configFile, field: "certificates.labPki", problem: "set together with certificate files", fix: "use either labPki (a generated test PKI) or clientCaChain/crl/web (your UMS's exports), not both" });
  }
  if (c.web && c.webCertificateArn) {
    problems.push({ file: configFile, field: "certificates.webCertificateArn", problem: "set together with certificates.web", fix: "import the web certificate from files (web) or use an existing ACM certificate (webCertificateArn), not both" });
  }
  if (c.labPki && !options.labPki) {
    problems.push({
      file: configFile,
      field: "certificates.labPki",
      problem: "a generated test PKI is not available here (nothing creates it while only loading a config)",
      fix: "synthesize with 'ums-edge synth' (it creates the lab PKI), or give your UMS's exported files instead",
    });
  }
  if (problems.length > 0) throw new ProblemsError(problems, heading);

  // The files: the user's exports, or the lab PKI's (checked the same way, so they are handled the same way).
  let files: { clientCaChain?: string; crl?: string; web?: LabPkiFiles["web"] };
  let given: (name: string, absolute: string) => string;
  if (c.labPki) {
    const pki = await options.labPki!(path.resolve(dir, c.labPki), raw.cluster.fqdn);
    files = { clientCaChain: pki.clientCaChain, crl: pki.crl, web: c.webCertificateArn ? undefined : pki.web };
    given = (_name, absolute) => absolute;
  } else {
    if (withVerify && !c.clientCaChain) {
      problems.push({ file: configFile, field: "certificates.clientCaChain", problem: "required by the verify stacks (it becomes the trust store)", fix: "give the path of the chain exported with 'Export Client Certificate Chain'" });
    }
    if (withAlb && !c.web && !c.webCertificateArn) {
      problems.push({ file: configFile, field: "certificates.web", problem: "the ALB listeners need the web certificate", fix: "give the three exported files (privateKey, headOnlyBody, entireChain) or webCertificateArn" });
    }
    const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p));
    files = { clientCaChain: abs(c.clientCaChain), crl: abs(c.crl), web: c.web && { privateKey: abs(c.web.privateKey)!, headOnlyBody: abs(c.web.headOnlyBody)!, entireChain: abs(c.web.entireChain)! } };
    const asGiven: Record<string, string | undefined> = { clientCaChain: c.clientCaChain, crl: c.crl, privateKey: c.web?.privateKey, headOnlyBody: c.web?.headOnlyBody, entireChain: c.web?.entireChain };
    given = (name) => asGiven[name]!;
  }
  const ref = (field: string, name: string, absolute: string): FileRef => ({ configFile, field, given: given(name, absolute), absolute });
  const notices: Notice[] = [];
  const take = (r: CheckResult) => {
    problems.push(...r.problems);
    // The lab PKI's files are ours (node-forge writes CRLF): what synth tidies there is not news.
    notices.push(...r.notices.filter((n) => !c.labPki || n.level !== "note"));
  };
  const caRef = files.clientCaChain && withVerify ? ref("certificates.clientCaChain", "clientCaChain", files.clientCaChain) : undefined;
  if (caRef) take(checkClientCaChain(caRef));
  if (files.crl && withVerify) take(checkCrl(ref("certificates.crl", "crl", files.crl), caRef));
  let acmChain: string | undefined;
  if (files.web && withAlb) {
    const web = checkWebCertificate(
      {
        privateKey: ref("certificates.web.privateKey", "privateKey", files.web.privateKey),
        headOnlyBody: ref("certificates.web.headOnlyBody", "headOnlyBody", files.web.headOnlyBody),
        entireChain: ref("certificates.web.entireChain", "entireChain", files.web.entireChain),
      },
      raw.cluster.fqdn,
    );
    take(web);
    acmChain = web.acmChain;
  }
  if (problems.length > 0) throw new ProblemsError(problems, heading);
  notices.push(...idleTimeoutWarnings(configFile, raw, stacks));

  return {
    file,
    project: raw.project,
    region: raw.region,
    network: { vpcId: raw.network.vpcId, albSubnetIds: subnets, instanceSubnetIds, deviceCidrs: raw.network.deviceCidrs },
    cluster: raw.cluster,
    certificates: {
      clientCaChain: files.clientCaChain,
      crl: files.crl,
      web: files.web,
      webAcmChain: acmChain,
      webCertificateArn: c.webCertificateArn,
    },
    instance: raw.instance ?? {},
    logs: raw.logs ?? {},
    state: raw.state ?? {},
    devices: raw.devices ?? {},
    stacks,
    notices,
  };
}
