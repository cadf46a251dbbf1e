import { codingName, contentLengthValue, KNOWN_CODINGS, RequestHead } from "./request-head";

/**
 * HTTP Desync Guardian's classification of a request, as an Application Load Balancer applies it.
 * AWS: "Desync mitigation mode" (ELB user guide, Application Load Balancers > Load balancer
 * attributes) gives the four classifications; "Access logs for your Application Load Balancer" >
 * "Classification reasons" gives each reason code and its classification. Where a code's one-line
 * description leaves a shape open, the rule follows the library AWS names as the classifier
 * (github.com/aws/http-desync-guardian, docs/README.md and src/request_analyzer.rs): the most
 * severe finding wins, and among equally severe ones the first.
 *
 * Input is the head as the load balancer read it (request-head.ts): header names and values as
 * received, the version as written.
 */

export type Classification = "Compliant" | "Acceptable" | "Ambiguous" | "Severe";

/** AWS's classification reason codes ("Access logs" > "Classification reasons"). */
export type ClassificationReason =
  | "AmbiguousUri"
  | "BadContentLength"
  | "BadHeader"
  | "BadTransferEncoding"
  | "BadUri"
  | "BadMethod"
  | "BadVersion"
  | "BothTeClPresent"
  | "DuplicateContentLength"
  | "EmptyHeader"
  | "GetHeadZeroContentLength"
  | "MultipleContentLength"
  | "MultipleTransferEncodingChunked"
  | "NonCompliantHeader"
  | "NonCompliantVersion"
  | "SpaceInUri"
  | "SuspiciousHeader"
  | "UndefinedContentLengthSemantics"
  | "UndefinedTransferEncodingSemantics";

export interface DesyncVerdict {
  readonly classification: Classification;
  /** Undefined for a compliant request (`-` in the access log). */
  readonly reason?: ClassificationReason;
  /** What was found, in words (for the emulator's explanation; AWS logs only the code). */
  readonly detail?: string;
}

const RANK: Readonly<Record<Classification, number>> = { Compliant: 0, Acceptable: 1, Ambiguous: 2, Severe: 3 };

type Tier = "ok" | "noncompliant" | "bad";

// RFC 9110 tchar.
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const isBad = (c: number) => c === 0 || c === 10 || c === 13; // NUL, LF, CR: "absolutely unacceptable"
const isWhitespace = (c: number) => c === 32 || c === 9;
const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

function trimWs(s: string): string {
  let a = 0;
  let z = s.length;
  while (a < z && isWhitespace(s.charCodeAt(a))) a++;
  while (z > a && isWhitespace(s.charCodeAt(z - 1))) z--;
  return s.slice(a, z);
}

function nameTier(name: string): Tier {
  let tier: Tier = "ok";
  for (let i = 0; i < name.length; i++) {
    if (TCHAR.test(name[i])) continue;
    if (isBad(name.charCodeAt(i))) return "bad";
    tier = "noncompliant";
  }
  return tier;
}

function valueTier(value: string): Tier {
  let tier: Tier = "ok";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Visible ASCII, space, tab and obs-text (0x80-0xFF) are field content.
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c >= 0x80) continue;
    if (isBad(c)) return "bad";
    tier = "noncompliant";
  }
  return tier;
}

type Similarity = "identical" | "same-letters" | "distant";

/** Latin1 pairs that upper-case to an ASCII letter ("ſ" to S, dotless "ı" to I): spellings parsers may fold. */
const LOOKALIKES: ReadonlyArray<readonly [string, number, number]> = [
  ["s", 0xc5, 0xbf],
  ["i", 0xc4, 0xb1],
];

function nextAlnum(s: string, i: number): number {
  while (i < s.length && !isAlnum(s.charCodeAt(i))) i++;
  return i;
}

function nextSymbol(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) <= 32) i++;
  return i;
}

/**
 * How close a header name is to `important` (lower-case letters and '-'): identical ignoring case,
 * the same letters with other delimiters, whitespace or control characters in between
 * (`Transfer_Encoding`, `Transfer-Encoding `, `\x01Content-Length`), or distant.
 */
export function similarity(important: string, name: string): Similarity {
  if (name.length < important.length) return "distant";
  let i = nextAlnum(name, 0);
  let identical = i === 0 && important.length === name.length;
  for (const c of important) {
    if (i === name.length) return "distant";
    const delimiter = c === "-";
    let same = name[i].toLowerCase() === c && name.charCodeAt(i) < 0x80;
    let next = i + 1;
    if (!same && i + 1 < name.length && LOOKALIKES.some(([l, a, b]) => l === c && name.charCodeAt(i) === a && name.charCodeAt(i + 1) === b)) {
      same = true;
      next = i + 2;
    }
    if (!same) {
      if (!delimiter) break;
      identical = false;
    }
    i = delimiter ? nextAlnum(name, next) : nextSymbol(name, next);
  }
  if (i === name.length) return identical ? "identical" : "same-letters";
  return nextAlnum(name, i) === name.length ? "same-letters" : "distant";
}

/** Collects findings, keeping the most severe (the first of equals). */
class Verdict {
  classification: Classification = "Compliant";
  reason?: ClassificationReason;
  detail?: string;

  raise(to: Classification, reason: ClassificationReason, detail: string): void {
    if (RANK[to] <= RANK[this.classification]) return;
    this.classification = to;
    this.reason = reason;
    this.detail = detail;
  }
}

function quoted(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

/** Transfer-Encoding headers: unknown codings, chunked twice in a row. */
function checkTransferEncoding(v: Verdict, values: readonly string[]): void {
  let chunked = false;
  for (const value of values) {
    for (const item of value.split(",")) {
      const c = codingName(item);
      if (!(KNOWN_CODINGS as readonly string[]).includes(c)) {
        v.raise("Severe", "BadTransferEncoding", `Transfer-Encoding ${quoted(value)}: '${c}' is not a transfer coding`);
        continue;
      }
      if (chunked && c === "chunked") v.raise("Severe", "MultipleTransferEncodingChunked", `Transfer-Encoding ${quoted(value)}: chunked twice`);
      chunked = c === "chunked";
    }
  }
}

/** Content-Length headers: the value they agree on, if any. */
function checkContentLength(v: Verdict, values: readonly string[]): number | undefined {
  let length: number | undefined;
  for (const value of values) {
    const n = contentLengthValue(value);
    if (n === undefined) v.raise("Severe", "BadContentLength", `Content-Length ${quoted(value)} is not a number`);
    else if (length !== undefined && n !== length) v.raise("Severe", "MultipleContentLength", `Content-Length ${length} and ${n}`);
    else if (length !== undefined) v.raise("Ambiguous", "DuplicateContentLength", `Content-Length ${n} twice`);
    else length = n;
  }
  return length;
}

/** The version as the classifier reads it: empty (HTTP/0.9), valid HTTP/1.x, or malformed. */
function checkVersion(v: Verdict, version: string): void {
  const trimmed = trimWs(version);
  if (trimmed === "" || trimmed === "HTTP/0.9") return v.raise("Acceptable", "NonCompliantVersion", `version ${quoted(version)}`);
  if (!/^HTTP\/1\.[0-9]$/.test(trimmed)) return v.raise("Severe", "BadVersion", `version ${quoted(version)}`);
  if (trimmed !== version || trimmed > "HTTP/1.1") v.raise("Acceptable", "NonCompliantVersion", `version ${quoted(version)}`);
}

function checkUri(v: Verdict, target: string): void {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c > 32 && c !== 127) continue;
    if (isBad(c)) return v.raise("Severe", "BadUri", "the request target holds NUL, CR or LF");
    if (c === 32) v.raise("Acceptable", "SpaceInUri", "the request target holds a space");
    else v.raise("Ambiguous", "AmbiguousUri", `the request target holds control character 0x${c.toString(16).padStart(2, "0")}`);
  }
}

/** Classifies a request the way the load balancer's desync mitigation does. */
export function classifyRequest(req: RequestHead): DesyncVerdict {
  const v = new Verdict();
  const te: string[] = [];
  const cl: string[] = [];
  for (let i = 0; i < req.lower.length; i++) {
    const name = req.raw[2 * i];
    const value = req.raw[2 * i + 1];
    const teSim = similarity("transfer-encoding", name);
    const clSim = teSim === "distant" ? similarity("content-length", name) : "distant";
    const essential = teSim === "identical" || clSim === "identical";
    const nt = nameTier(name);
    const vt = valueTier(value);
    const tier: Tier = nt === "bad" || vt === "bad" ? "bad" : nt === "noncompliant" || vt === "noncompliant" ? "noncompliant" : "ok";
    if (v.classification !== "Severe") {
      if (tier === "bad") v.raise("Severe", "BadHeader", `header ${quoted(name)} holds NUL, CR or LF`);
      else if (tier === "noncompliant") v.raise("Acceptable", "NonCompliantHeader", `header ${quoted(name)} holds a non-ASCII or control character`);
    }
    const trimmed = trimWs(name);
    if (trimmed === "" || trimmed.startsWith(":")) {
      v.raise("Ambiguous", "EmptyHeader", "an empty header name, or a line of spaces only");
    } else if (!essential && tier !== "bad" && (teSim === "same-letters" || clSim === "same-letters")) {
      (teSim === "same-letters" ? te : cl).push(value);
      v.raise("Ambiguous", "SuspiciousHeader", `header ${quoted(name)} is too close to ${teSim === "same-letters" ? "Transfer-Encoding" : "Content-Length"}`);
    } else if (teSim === "identical") te.push(value);
    else if (clSim === "identical") cl.push(value);
  }
  const http09 = trimWs(req.version) === "" || trimWs(req.version) === "HTTP/0.9";
  if (te.length > 0 || cl.length > 0) {
    if ((http09 || trimWs(req.version) === "HTTP/1.0") && te.length > 0) {
      v.raise("Ambiguous", "UndefinedTransferEncodingSemantics", `Transfer-Encoding in an ${trimWs(req.version) || "HTTP/0.9"} request`);
    } else if (http09 && cl.length > 0) {
      v.raise("Ambiguous", "UndefinedContentLengthSemantics", "Content-Length in an HTTP/0.9 request");
    } else {
      checkTransferEncoding(v, te);
      const length = checkContentLength(v, cl);
      if (req.method === "GET" || req.method === "HEAD") {
        // RFC 9110 9.3.1: a body in a GET or HEAD request has no defined semantics.
        if (te.length > 0) v.raise("Ambiguous", "UndefinedTransferEncodingSemantics", `${req.method} with Transfer-Encoding`);
        if (length === 0) v.raise("Acceptable", "GetHeadZeroContentLength", `${req.method} with Content-Length: 0`);
        else if (length !== undefined) v.raise("Ambiguous", "UndefinedContentLengthSemantics", `${req.method} with Content-Length: ${length}`);
      }
      if (length !== undefined && te.length > 0) v.raise("Ambiguous", "BothTeClPresent", "both Transfer-Encoding and Content-Length");
    }
  }
  if (![...req.method].every((c) => TCHAR.test(c))) v.raise("Severe", "BadMethod", `method ${quoted(req.method)}`);
  checkVersion(v, req.version);
  checkUri(v, req.target);
  return { classification: v.classification, reason: v.reason, detail: v.detail };
}
