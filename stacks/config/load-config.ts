import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { configSchema, DEFAULT_SSL_POLICY, RawConfig, RawStack, HeaderNames } from "./schema";
import { STACK_VARIANT, StackVariant, MtlsMode } from "../../core/stack-variants";
import type { Backend } from "../../core/igel";
import { checkClientCaChain, checkCrl, checkWebCertificate, FileRef } from "./certificate-checks";
import { Problem, ProblemsError } from "../../core/errors";

/** One stack, with every default applied. */
export interface StackSpec {
  readonly variant: StackVariant;
  readonly backend: Backend;
  /** undefined: no ALB (ums-direct). */
  readonly mtlsMode?: MtlsMode;
  readonly pathAllowList: boolean;
  readonly sslPolicy: string;
  readonly ignoreClientCertificateExpiry: boolean;
  readonly advertiseTrustStoreCaNames: "on" | "off";
  readonly headerNames: HeaderNames;
}

export interface CertificateSources {
  /** Absolute paths. */
  readonly clientCaChain?: string;
  readonly crl?: string;
  readonly web?: { readonly privateKey: string; readonly headOnlyBody: string; readonly entireChain: string };
  readonly webCertificateArn?: string;
}

/**
 * Turns a config's `certificates.labPki` directory into certificate files. The loader itself never
 * writes: callers that may create a test PKI (ums-edge synth, the simulation) pass one that does.
 */
export type LabPkiProvider = (dir: string, fqdn: string) => Promise<Required<Pick<CertificateSources, "clientCaChain" | "crl" | "web">>>;

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
    readonly instanceSubnetId: string;
    readonly deviceCidrs: readonly string[];
  };
  readonly cluster: { readonly fqdn: string };
  readonly certificates: CertificateSources;
  readonly instance: { readonly type: string; readonly keyName?: string; readonly rootVolumeGiB: number };
  readonly logs: { readonly prefix: string };
  readonly stacks: readonly StackSpec[];
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

const VERIFY_ONLY: ReadonlyArray<keyof RawStack> = ["ignoreClientCertificateExpiry", "advertiseTrustStoreCaNames"];
const VERIFY_HEADERS: ReadonlyArray<keyof HeaderNames> = ["leaf", "serialNumber", "issuer", "subject", "validity"];

function stackProblems(file: string, raw: RawStack, index: number): Problem[] {
  const facts = STACK_VARIANT[raw.variant];
  const at = (field: string) => `stacks[${index}].${field}`;
  const problems: Problem[] = [];
  if (!facts.mtlsMode) {
    for (const key of ["pathAllowList", "sslPolicy", "headerNames", ...VERIFY_ONLY] as const) {
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
  return problems;
}

function toSpec(raw: RawStack): StackSpec {
  const facts = STACK_VARIANT[raw.variant];
  return {
    variant: raw.variant,
    backend: facts.backend,
    mtlsMode: facts.mtlsMode,
    // The IGEL guidance restricts a UMS to the four device/web-app prefixes; an ICG is built to face the internet.
    pathAllowList: raw.pathAllowList ?? (facts.mtlsMode !== undefined && facts.backend === "ums"),
    sslPolicy: raw.sslPolicy ?? DEFAULT_SSL_POLICY,
    ignoreClientCertificateExpiry: raw.ignoreClientCertificateExpiry ?? false,
    advertiseTrustStoreCaNames: raw.advertiseTrustStoreCaNames ?? "off",
    headerNames: raw.headerNames ?? {},
  };
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
 * certificate files) is reported at once, before anything is synthesized.
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
  raw.stacks.forEach((s, i) => problems.push(...stackProblems(configFile, s, i)));
  const seen = new Set<string>();
  raw.stacks.forEach((s, i) => {
    if (seen.has(s.variant)) problems.push({ file: configFile, field: `stacks[${i}].variant`, problem: `'${s.variant}' is listed twice`, fix: "list each variant once" });
    seen.add(s.variant);
  });
  const stacks = raw.stacks.map(toSpec);
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
  const instanceSubnetId = raw.network.instanceSubnetId ?? subnets[0];
  if (!instanceSubnetId) {
    problems.push({ file: configFile, field: "network.instanceSubnetId", problem: "no subnet for the UMS instance", fix: "set network.instanceSubnetId (or network.albSubnetIds)" });
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
  if (problems.length > 0) throw new ProblemsError(problems, `${configFile} is not a valid ums-edge configuration:`);

  const ref = (field: string, given: string): FileRef => ({ configFile, field, given, absolute: path.resolve(dir, given) });
  let certificates: CertificateSources;
  if (c.labPki) {
    if (!options.labPki) {
      throw new ProblemsError([{ file: configFile, field: "certificates.labPki", problem: "a generated test PKI is not available here", fix: "synthesize with 'ums-edge synth' (it creates the lab PKI), or give your UMS's exported files instead" }]);
    }
    const pki = await options.labPki(path.resolve(dir, c.labPki), raw.cluster.fqdn);
    certificates = { clientCaChain: pki.clientCaChain, crl: pki.crl, web: c.webCertificateArn ? undefined : pki.web, webCertificateArn: c.webCertificateArn };
  } else {
    if (withVerify && !c.clientCaChain) {
      problems.push({ file: configFile, field: "certificates.clientCaChain", problem: "required by the verify stacks (it becomes the trust store)", fix: "give the path of the chain exported with 'Export Client Certificate Chain'" });
    }
    if (withAlb && !c.web && !c.webCertificateArn) {
      problems.push({ file: configFile, field: "certificates.web", problem: "the ALB listeners need the web certificate", fix: "give the three exported files (privateKey, headOnlyBody, entireChain) or webCertificateArn" });
    }
    const caRef = c.clientCaChain ? ref("certificates.clientCaChain", c.clientCaChain) : undefined;
    if (caRef) problems.push(...checkClientCaChain(caRef));
    if (c.crl) problems.push(...checkCrl(ref("certificates.crl", c.crl), caRef));
    if (c.web) {
      problems.push(
        ...checkWebCertificate(
          {
            privateKey: ref("certificates.web.privateKey", c.web.privateKey),
            headOnlyBody: ref("certificates.web.headOnlyBody", c.web.headOnlyBody),
            entireChain: ref("certificates.web.entireChain", c.web.entireChain),
          },
          raw.cluster.fqdn,
        ),
      );
    }
    certificates = {
      clientCaChain: caRef?.absolute,
      crl: c.crl ? path.resolve(dir, c.crl) : undefined,
      web: c.web
        ? { privateKey: path.resolve(dir, c.web.privateKey), headOnlyBody: path.resolve(dir, c.web.headOnlyBody), entireChain: path.resolve(dir, c.web.entireChain) }
        : undefined,
      webCertificateArn: c.webCertificateArn,
    };
  }
  if (problems.length > 0) throw new ProblemsError(problems, `${configFile} is not a valid ums-edge configuration:`);

  return {
    file,
    project: raw.project,
    region: raw.region,
    network: { vpcId: raw.network.vpcId, albSubnetIds: subnets, instanceSubnetId: instanceSubnetId!, deviceCidrs: raw.network.deviceCidrs },
    cluster: raw.cluster,
    certificates,
    instance: raw.instance,
    logs: raw.logs,
    stacks,
  };
}
