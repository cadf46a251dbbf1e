import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { Problem, ProblemsError } from "./errors";
import { MTLS_HEADER_DISPLAY } from "./aws-headers";

/**
 * The part of the UMS `application.yml` (`<UMS>\rmguiserver\conf\appconfig\application.yml`) the
 * mock UMS reads: `igel.client-cert-forwarding`. Everything else in the file is the real UMS's
 * business and is ignored. The UMS is a Spring application, so keys bind "relaxed" (kebab-case or
 * camelCase) and booleans accept Spring's words (true/on/yes/1, false/off/no/0).
 *
 * Shared by the mock UMS and the ICG (which reads the same block when it sits behind an ALB), so
 * it lives here rather than in either component; `reader` only changes the wording of messages.
 */

export type ForwardingEncoding = "URL_AWS";

export type ClientCertForwarding =
  | {
      readonly enabled: false;
    }
  | {
      readonly enabled: true;
      /** Header the device certificate is read from, as written in the file. */
      readonly header: string;
      /** undefined: the header value is read as a plain PEM (no URL decoding), the UMS default. */
      readonly encodingType?: ForwardingEncoding;
    };

export interface AppConfig {
  /** The file it came from (absolute), if any. */
  readonly file?: string;
  readonly forwarding: ClientCertForwarding;
  /** Settings that start the component but will probably make devices fail; it logs them at start. */
  readonly warnings: readonly string[];
}

/** No application.yml: forwarding off, identity from the TLS peer certificate (the `direct` topology). */
export const DEFAULT_APP_CONFIG: AppConfig = { forwarding: { enabled: false }, warnings: [] };

/** Who reads the file: named in messages ("the UMS ignores it", "the mock UMS did not start"). */
export interface ConfigReader {
  /** The product whose behaviour the messages describe, e.g. `UMS`. */
  readonly product: string;
  /** What did not start when the file is unusable, e.g. `the mock UMS`. */
  readonly process: string;
}

export const UMS_READER: ConfigReader = { product: "UMS", process: "the mock UMS" };
export const ICG_READER: ConfigReader = { product: "ICG", process: "the ICG" };

const BLOCK = "igel.client-cert-forwarding";
const KEYS = { enabled: "enabled", encodingType: "encodingType", header: "client-cert-forwarded-header" } as const;
const HEADER_FIX = `'${MTLS_HEADER_DISPLAY.leaf}' behind an ALB in verify mode, '${MTLS_HEADER_DISPLAY.clientcert}' in passthrough mode`;
/** RFC 9110 token: what an HTTP header name may contain. */
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const SPRING_BOOLEANS: Record<string, boolean> = { true: true, on: true, yes: true, "1": true, false: false, off: false, no: false, "0": false };

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/** Spring's relaxed binding: `client-cert-forwarded-header`, `clientCertForwardedHeader` and `client_cert_forwarded_header` are one key. */
function canonicalKey(key: string): string {
  return key.replace(/[-_]/g, "").toLowerCase();
}
const CANONICAL = new Map(Object.values(KEYS).map((k) => [canonicalKey(k), k]));

const springBoolean = z.preprocess(
  (v) => (typeof v === "string" ? (SPRING_BOOLEANS[v.trim().toLowerCase()] ?? v) : typeof v === "number" && (v === 0 || v === 1) ? v === 1 : v),
  z.boolean({ error: (issue) => `must be true or false (got ${show(issue.input)})` }),
);

const forwardingSchema = z.strictObject({
  [KEYS.enabled]: springBoolean.optional(),
  [KEYS.encodingType]: z.string({ error: (issue) => `must be a word like URL_AWS (got ${show(issue.input)})` }).optional(),
  [KEYS.header]: z.string({ error: (issue) => `must be a header name (got ${show(issue.input)})` }).optional(),
});

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function closest(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let diagonal = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const above = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
        diagonal = above;
      }
    }
    return row[b.length];
  };
  const best = Object.values(KEYS)
    .map((k) => ({ k, d: distance(canonicalKey(key), canonicalKey(k)) }))
    .sort((a, b) => a.d - b.d)[0];
  return best.d <= 4 ? best.k : undefined;
}

/** Parses the text of an application.yml; `file` is used in messages. Throws ProblemsError listing every problem. */
export function parseAppConfig(text: string, file: string, reader: ConfigReader = UMS_READER): AppConfig {
  const who = reader.product;
  const fail = (problems: Problem[]): never => {
    throw new ProblemsError(problems, `${file}: the ${who} application.yml is not usable; ${reader.process} did not start`);
  };
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0].message.split("\n")[0].replace(/:$/, "");
    fail([{ file, problem: `is not valid YAML: ${first}`, fix: "indent with spaces (not tabs) and write one 'key: value' a line, as in the IGEL guide's example" }]);
  }
  const root: unknown = doc.toJS();
  if (root === null || root === undefined) return { file, forwarding: { enabled: false }, warnings: [] };
  if (!isMapping(root)) {
    fail([{ file, field: "(top level)", problem: `must be a mapping of settings (found a ${Array.isArray(root) ? "list" : typeof root})`, fix: "start the file with 'igel:' on its own line" }]);
  }
  const igel = (root as Record<string, unknown>).igel;
  if (igel === undefined || igel === null) return { file, forwarding: { enabled: false }, warnings: [] };
  if (!isMapping(igel)) fail([{ file, field: "igel", problem: `must be a mapping (found ${show(igel)})`, fix: "put 'client-cert-forwarding:' indented under 'igel:'" }]);
  const blockKey = Object.keys(igel as object).find((k) => canonicalKey(k) === canonicalKey("client-cert-forwarding"));
  const block = blockKey === undefined ? undefined : (igel as Record<string, unknown>)[blockKey];
  if (block === undefined || block === null) return { file, forwarding: { enabled: false }, warnings: [] };
  if (!isMapping(block)) fail([{ file, field: BLOCK, problem: `must be a mapping (found ${show(block)})`, fix: "indent 'enabled:', 'encodingType:' and 'client-cert-forwarded-header:' under it" }]);

  const problems: Problem[] = [];
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(block as Record<string, unknown>)) {
    const canonical = CANONICAL.get(canonicalKey(key));
    if (!canonical) {
      const guess = closest(key);
      problems.push({
        file,
        field: `${BLOCK}.${key}`,
        problem: `unknown field (the ${who} ignores it)`,
        fix: guess ? `did you mean '${guess}'?` : `the ${who} reads only ${Object.values(KEYS).map((k) => `'${k}'`).join(", ")}`,
      });
    } else if (canonical in normalised) {
      problems.push({ file, field: `${BLOCK}.${key}`, problem: `sets '${canonical}' a second time (Spring binds both spellings to one setting)`, fix: "keep one of them" });
    } else {
      normalised[canonical] = value;
    }
  }
  const parsed = forwardingSchema.safeParse(normalised);
  if (!parsed.success) {
    const fixes: Record<string, string> = {
      [KEYS.enabled]: "write enabled: true (or false)",
      [KEYS.encodingType]: "write encodingType: URL_AWS",
      [KEYS.header]: `set it to ${HEADER_FIX}`,
    };
    for (const issue of parsed.error.issues) {
      const key = issue.path.map(String).join(".");
      problems.push({ file, field: `${BLOCK}.${key}`, problem: issue.message, fix: fixes[key] });
    }
  }
  if (problems.length > 0 || !parsed.success) return fail(problems);

  const enabled = parsed.data[KEYS.enabled] ?? false;
  const header = parsed.data[KEYS.header]?.trim();
  const encoding = parsed.data[KEYS.encodingType]?.trim();
  const warnings: string[] = [];

  if (encoding !== undefined && encoding !== "URL_AWS") {
    problems.push({
      file,
      field: `${BLOCK}.encodingType`,
      problem:
        encoding.toUpperCase() === "URL_AWS"
          ? `'${encoding}' is not recognised: the value is case-sensitive`
          : `'${encoding}' is not an encoding the ${who} applies to AWS-forwarded certificates`,
      fix: "write encodingType: URL_AWS (the ALB URL-encodes the PEM)",
    });
  }
  if (!enabled) {
    if (header) warnings.push(`${file}: ${BLOCK}.client-cert-forwarded-header is set to '${header}' but 'enabled' is not true, so the header is ignored and devices are identified by their TLS certificate only`);
    if (problems.length > 0) fail(problems);
    return { file, forwarding: { enabled: false }, warnings };
  }
  if (!header) {
    problems.push({
      file,
      field: `${BLOCK}.client-cert-forwarded-header`,
      problem: "You must set 'client-cert-forwarded-header' when 'enabled' is true",
      fix: `set it to ${HEADER_FIX}`,
    });
  } else if (!HEADER_TOKEN.test(header)) {
    problems.push({
      file,
      field: `${BLOCK}.client-cert-forwarded-header`,
      problem: `'${header}' is not an HTTP header name (letters, digits and '-' only, no ':' or spaces)`,
      fix: `set it to ${HEADER_FIX}`,
    });
  }
  if (problems.length > 0 || !header) return fail(problems);
  if (encoding === undefined) {
    warnings.push(`${file}: ${BLOCK}.encodingType is not set, so the ${who} reads '${header}' as a plain PEM; an ALB URL-encodes it and every device will be refused (fix: encodingType: URL_AWS)`);
  }
  return { file, forwarding: { enabled: true, header, encodingType: encoding === "URL_AWS" ? "URL_AWS" : undefined }, warnings };
}

/** Reads and checks an application.yml. Throws ProblemsError (a UserError) naming the file, the field and the fix. */
export function loadAppConfig(file: string, reader: ConfigReader = UMS_READER): AppConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "is not readable (permission denied)" : `cannot be read (${code})`;
    throw new ProblemsError([{ file, problem: `${why} (looked at ${absolute})`, fix: `give the path of the ${reader.product} application.yml, or leave --app-config out to run without client-cert forwarding` }]);
  }
  return { ...parseAppConfig(text, file, reader), file: absolute };
}

/** A one-line description for logs and the ready line. */
export function describeForwarding(f: ClientCertForwarding): string {
  if (!f.enabled) return "off (identity from the TLS peer certificate)";
  return `on: header ${f.header}, encodingType ${f.encodingType ?? "(not set: plain PEM)"}`;
}
