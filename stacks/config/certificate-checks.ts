import * as fs from "node:fs";
import { createPrivateKey, KeyObject, X509Certificate } from "node:crypto";
import { pemBlocks, pemOnly } from "../../core/pem";
import { parseCrls, ParsedCrl } from "../../core/crl-reader";
import type { Problem } from "../../core/errors";
import { ACM_KEYS, binaryKeystoreKind, describeKey, oneLine } from "./x509-facts";
import { isAwsMtlsKey, x509Version } from "../../core/x509";
import { orderChain } from "./web-chain";

/**
 * Checks of the certificate files a config names, done before anything is synthesized: what ACM or
 * the trust store would refuse at `terraform apply`, refused here with the file, the field and the
 * fix; and what synth changes on the way (order, text lines), said in notes.
 */

/** AWS trust stores: ELB user guide, "Quotas for your Application Load Balancers" > Certificates. */
export const TRUST_STORE_LIMITS = {
  /** Maximum certificate chain depth. */
  caLevels: 4,
  /** CA certificates per trust store. */
  caCertificates: 25,
  /** CA certificate size (16 KB). */
  caCertificateBytes: 16 * 1024,
  /** CA certificate subject size per trust store. */
  subjectBytes: 10_000,
  /** Revocation lists per trust store. */
  revocationLists: 30,
  /** Revocation entries per trust store. */
  revocationEntries: 500_000,
  /** Revocation list file size (50 MB). */
  revocationFileBytes: 50 * 1024 * 1024,
} as const;
/** ACM refuses private keys larger than 5 KB (ACM user guide, "Prerequisites for importing ACM certificates"). */
const MAX_ACM_KEY_BYTES = 5120;

export const KEY_LABELS = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"] as const;

export interface FileRef {
  /** The config file, for messages. */
  readonly configFile: string;
  /** The field naming the file, e.g. `certificates.web.privateKey`. */
  readonly field: string;
  /** As written in the config. */
  readonly given: string;
  /** Resolved against the config file's directory. */
  readonly absolute: string;
}

/** Something the user should know that does not stop synth: a warning (probably a mistake) or a note (what synth did). */
export interface Notice extends Problem {
  readonly level: "warning" | "note";
}

export interface CheckResult {
  readonly problems: Problem[];
  readonly notices: Notice[];
}

type Read = { ok: true; bytes: Buffer; text: string } | { ok: false; problem: Problem };

function read(ref: FileRef, what: string, fix: string): Read {
  try {
    const bytes = fs.readFileSync(ref.absolute);
    return { ok: true, bytes, text: bytes.toString("utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not readable (permission denied)" : code === "EISDIR" ? "is a directory" : `cannot be read (${code})`;
    return {
      ok: false,
      problem: { file: ref.configFile, field: ref.field, problem: `${what} '${ref.given}' ${why} (looked at ${ref.absolute})`, fix },
    };
  }
}

function problem(ref: FileRef, text: string, fix: string): Problem {
  return { file: ref.configFile, field: ref.field, problem: `'${ref.given}': ${text}`, fix };
}

function notice(level: Notice["level"], ref: FileRef, text: string, fix?: string): Notice {
  return { level, file: ref.configFile, field: ref.field, problem: `'${ref.given}': ${text}`, fix };
}

/** A note when synth's copy for AWS differs from the file (CRLF, Bag Attributes, blank lines...). */
function normalisationNote(ref: FileRef, text: string, labels: readonly string[]): Notice[] {
  const { changes } = pemOnly(text, labels);
  return changes.length === 0 ? [] : [notice("note", ref, `synth writes its PEM blocks only, with LF line endings, for AWS (dropped: ${changes.join(", ")})`)];
}

function parseCertificates(ref: FileRef, text: string): { certs: X509Certificate[]; problem?: Problem } {
  const certBlocks = pemBlocks(text).filter((b) => b.label === "CERTIFICATE");
  if (certBlocks.length === 0) {
    return { certs: [], problem: problem(ref, "holds no PEM certificate ('-----BEGIN CERTIFICATE-----')", "export it in PEM format (KeyStore Explorer: 'PEM' ticked), not DER or PKCS#12") };
  }
  const certs: X509Certificate[] = [];
  for (const [i, b] of certBlocks.entries()) {
    try {
      certs.push(new X509Certificate(b.der));
    } catch {
      return { certs: [], problem: problem(ref, `certificate #${i + 1} is not a valid X.509 certificate`, "export the file again; do not edit PEM blocks by hand") };
    }
  }
  return { certs };
}

/** Longest issuer path inside a bundle, in certificates. */
function caLevels(certs: readonly X509Certificate[]): number {
  const depth = (cert: X509Certificate, seen: Set<X509Certificate>): number => {
    if (seen.has(cert)) return 0;
    const issuer = certs.find((c) => c !== cert && cert.checkIssued(c) && cert.verify(c.publicKey));
    return 1 + (issuer ? depth(issuer, new Set([...seen, cert])) : 0);
  };
  return Math.max(...certs.map((c) => depth(c, new Set())));
}

const describe = (c: X509Certificate, i: number) => `certificate #${i + 1} (${oneLine(c.subject)})`;

/**
 * The UMS client certificate chain that becomes the trust store bundle. ELB user guide, "Mutual
 * authentication with TLS in Application Load Balancer" > "Before you begin" (CA certificates, X.509
 * v3, RSA 2K-8K or ECDSA P-256/384/521) and "Quotas for your Application Load Balancers".
 */
export function checkClientCaChain(ref: FileRef): CheckResult {
  const fix = "export it again from UMS Administration > Global Configuration > Server Network Settings > Export Client Certificate Chain (PEM)";
  const r = read(ref, "the client certificate chain", fix);
  if (!r.ok) return { problems: [r.problem], notices: [] };
  const { certs, problem: p } = parseCertificates(ref, r.text);
  if (p) return { problems: [p], notices: [] };
  const problems: Problem[] = [];
  const limits = TRUST_STORE_LIMITS;
  const notCa = certs.filter((c) => !c.ca);
  if (notCa.length > 0) {
    problems.push(problem(ref, `holds ${notCa.length} certificate(s) that are not CAs (${notCa.map((c) => oneLine(c.subject)).join("; ")})`, "a trust store holds CA certificates only; remove device or server certificates from the bundle"));
  }
  const levels = caLevels(certs);
  if (levels > limits.caLevels) {
    problems.push(problem(ref, `has a CA chain ${levels} levels deep; AWS trust stores accept at most ${limits.caLevels}`, `shorten the chain to ${limits.caLevels} levels or fewer`));
  }
  if (certs.length > limits.caCertificates) {
    problems.push(problem(ref, `holds ${certs.length} CA certificates; an AWS trust store takes at most ${limits.caCertificates}`, "keep the CAs that issue your devices' certificates (the UMS device CA and its root)"));
  }
  certs.forEach((c, i) => {
    if (c.raw.length > limits.caCertificateBytes) problems.push(problem(ref, `${describe(c, i)} is ${c.raw.length} bytes; AWS accepts CA certificates up to 16 KB`, "remove it from the bundle or issue a smaller CA certificate"));
    const version = x509Version(c);
    if (version !== 3) problems.push(problem(ref, `${describe(c, i)} is X.509 v${version}; AWS trust stores take X.509 v3 certificates only`, "issue the CA certificate again as X.509 v3"));
    if (!isAwsMtlsKey(c.publicKey)) problems.push(problem(ref, `${describe(c, i)} has a key AWS trust stores do not take (${describeKey(c.publicKey)}); they take RSA 2048-8192 and ECDSA P-256, P-384 and P-521 keys`, "issue the CA with a supported key"));
  });
  const subjectBytes = certs.reduce((n, c) => n + Buffer.byteLength(c.subject), 0);
  if (subjectBytes > limits.subjectBytes) {
    problems.push(problem(ref, `the CA subjects add up to ${subjectBytes} bytes; AWS allows ${limits.subjectBytes} per trust store`, "keep fewer CA certificates in the bundle"));
  }
  return { problems, notices: problems.length === 0 ? normalisationNote(ref, r.text, ["CERTIFICATE"]) : [] };
}

/** A CRL for the trust store: PEM, from a CA of the bundle, within AWS's revocation quotas (same pages). */
export function checkCrl(ref: FileRef, caChain?: FileRef): CheckResult {
  const fix = "give a PEM CRL ('-----BEGIN X509 CRL-----') issued by a CA of the client certificate chain";
  const r = read(ref, "the CRL", fix);
  if (!r.ok) return { problems: [r.problem], notices: [] };
  const limits = TRUST_STORE_LIMITS;
  if (r.bytes.length > limits.revocationFileBytes) {
    return { problems: [problem(ref, `is ${r.bytes.length} bytes; AWS accepts revocation files up to 50 MB`, "split it, or publish a new CRL without entries of expired certificates")], notices: [] };
  }
  let crls: ParsedCrl[];
  try {
    crls = parseCrls(r.text);
  } catch (e) {
    return { problems: [problem(ref, (e as Error).message, fix)], notices: [] };
  }
  const problems: Problem[] = [];
  if (crls.length > limits.revocationLists) problems.push(problem(ref, `holds ${crls.length} CRLs; an AWS trust store takes at most ${limits.revocationLists} revocation lists`, "keep the CRLs of the CAs in the bundle"));
  const entries = crls.reduce((n, c) => n + c.revokedSerials.size, 0);
  if (entries > limits.revocationEntries) problems.push(problem(ref, `revokes ${entries} certificates; an AWS trust store takes at most ${limits.revocationEntries} revocation entries`, "publish a CRL without entries of expired certificates"));
  if (caChain) {
    let cas: X509Certificate[] = [];
    try {
      cas = pemBlocks(fs.readFileSync(caChain.absolute, "utf8")).filter((b) => b.label === "CERTIFICATE").map((b) => new X509Certificate(b.der));
    } catch {
      cas = []; // the chain's own check reports it
    }
    const orphan = cas.length === 0 ? -1 : crls.findIndex((crl) => !cas.some((ca) => crl.isSignedBy(ca)));
    if (orphan >= 0) problems.push(problem(ref, `CRL #${orphan + 1} is not signed by any CA in ${caChain.given}`, fix));
  }
  return { problems, notices: problems.length === 0 ? normalisationNote(ref, r.text, ["X509 CRL"]) : [] };
}

export interface WebCertificateRefs {
  readonly privateKey: FileRef;
  readonly headOnlyBody: FileRef;
  readonly entireChain: FileRef;
}

export interface WebCertificateCheck extends CheckResult {
  /** ACM's `certificate_chain`: the intermediates, issuer of the body first, PEM; undefined when there are none. */
  readonly acmChain?: string;
}

const KEY_FIX = "export the key pair's private key from KeyStore Explorer: type OpenSSL, unencrypted, PEM";

/** The private key as ACM imports it: PEM, unencrypted, RSA or ECDSA of ACM's sizes, at most 5 KB. */
function checkPrivateKey(ref: FileRef, r: { bytes: Buffer; text: string }): { key?: KeyObject; problems: Problem[]; notices: Notice[] } {
  const blocks = pemBlocks(r.text);
  if (blocks.length === 0) {
    const kind = binaryKeystoreKind(r.bytes);
    if (kind === "PKCS#12" || kind === "JKS") {
      return {
        problems: [problem(ref, `is a ${kind} keystore, not a PEM private key; ACM imports the key alone, unencrypted, in PEM`, `${KEY_FIX} (or: openssl pkcs12 -in ${ref.given} -nocerts -nodes -out private_key.pem)`)],
        notices: [],
      };
    }
  }
  if (blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY") || /Proc-Type: 4,ENCRYPTED/.test(r.text)) {
    return { problems: [problem(ref, "is encrypted; ACM imports unencrypted keys only", "export it again from KeyStore Explorer with 'Encrypt' unticked")], notices: [] };
  }
  const keyBlocks = blocks.filter((b) => (KEY_LABELS as readonly string[]).includes(b.label));
  if (keyBlocks.length !== 1) {
    const what = keyBlocks.length === 0 ? "holds no PEM private key ('-----BEGIN PRIVATE KEY-----' or '-----BEGIN RSA PRIVATE KEY-----')" : `holds ${keyBlocks.length} private keys`;
    return { problems: [problem(ref, what, KEY_FIX)], notices: [] };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlocks[0].pem);
  } catch {
    return { problems: [problem(ref, "holds a private key block that does not parse", KEY_FIX)], notices: [] };
  }
  const problems: Problem[] = [];
  const notices: Notice[] = [];
  const kind = describeKey(key);
  if (!ACM_KEYS.includes(kind)) {
    problems.push(problem(ref, `is an ${kind} key; ACM imports RSA 1024, 2048, 3072 or 4096 and ECDSA P-256, P-384 or P-521 keys`, "create the web certificate in the UMS with an RSA 2048 (or ECDSA P-256) key"));
  } else if (kind === "RSA 1024") {
    notices.push(notice("warning", ref, "is an RSA 1024 key: ACM imports it, but current TLS clients (OpenSSL 3 at its default security level, browsers) refuse servers with keys under 2048 bits", "create the web certificate with an RSA 2048 key"));
  }
  const keyBytes = Buffer.byteLength(keyBlocks[0].pem);
  if (keyBytes > MAX_ACM_KEY_BYTES) problems.push(problem(ref, `is ${keyBytes} bytes; ACM accepts private keys up to ${MAX_ACM_KEY_BYTES}`, "use an RSA-2048/4096 or ECDSA key"));
  return { key, problems, notices: [...notices, ...(problems.length === 0 ? normalisationNote(ref, r.text, KEY_LABELS) : [])] };
}

/**
 * The three files the IGEL guide exports from the UMS keystore, checked the way ACM would (ACM user
 * guide, "Prerequisites for importing ACM certificates" and "Troubleshoot certificate import
 * problems"): key type and size, X.509 v3, valid now, key matches body, and a chain in which each
 * certificate certifies the one before it.
 */
export function checkWebCertificate(refs: WebCertificateRefs, fqdn: string): WebCertificateCheck {
  const keyRead = read(refs.privateKey, "the private key", KEY_FIX);
  const bodyRead = read(refs.headOnlyBody, "the certificate body", "export the certificate chain with 'Export length: Head only', PEM");
  const chainRead = read(refs.entireChain, "the certificate chain", "export the certificate chain with 'Export length: Entire chain', PEM");
  const problems: Problem[] = [keyRead, bodyRead, chainRead].flatMap((r) => (r.ok ? [] : [r.problem]));
  const notices: Notice[] = [];
  if (!keyRead.ok || !bodyRead.ok || !chainRead.ok) return { problems, notices };

  const keyCheck = checkPrivateKey(refs.privateKey, keyRead);
  problems.push(...keyCheck.problems);
  notices.push(...keyCheck.notices);

  const body = parseCertificates(refs.headOnlyBody, bodyRead.text);
  const chain = parseCertificates(refs.entireChain, chainRead.text);
  if (body.problem) problems.push(body.problem);
  if (chain.problem) problems.push(chain.problem);
  if (body.problem || chain.problem) return { problems, notices };

  const leaf = body.certs[0];
  const bodyRef = refs.headOnlyBody;
  const chainRef = refs.entireChain;
  if (body.certs.length !== 1) {
    problems.push(problem(bodyRef, `holds ${body.certs.length} certificates; the body is the head of the chain only`, "export the certificate chain again with 'Export length: Head only'"));
  }
  const version = x509Version(leaf);
  if (version !== 3) problems.push(problem(bodyRef, `is X.509 v${version}; ACM imports X.509 v3 certificates only`, "create a new web certificate in the UMS and export it again"));
  if (keyCheck.key && !leaf.checkPrivateKey(keyCheck.key)) {
    problems.push(problem(refs.privateKey, `does not match the certificate in ${bodyRef.given}`, "export the private key of the same keystore entry (compare the entry name with the serial number the UMS shows)"));
  }
  const now = Date.now();
  if (Date.parse(leaf.validTo) < now || Date.parse(leaf.validFrom) > now) {
    problems.push(problem(bodyRef, `is not valid now (valid ${leaf.validFrom} to ${leaf.validTo}); ACM refuses to import it`, "create a new web certificate in the UMS and export it again"));
  }
  if (!leaf.checkHost(fqdn)) {
    problems.push(
      problem(bodyRef, `does not name the cluster FQDN '${fqdn}' (subject alternative names: ${leaf.subjectAltName ?? "none"})`, "the IGEL guide requires the cluster FQDN in the web certificate: create one that includes it, or correct cluster.fqdn"),
    );
  }

  if (!chain.certs.some((c) => c.fingerprint256 === leaf.fingerprint256)) {
    problems.push(
      problem(
        chainRef,
        `does not start with the certificate of ${bodyRef.given} (chain head: ${oneLine(chain.certs[0].subject)}; body: ${oneLine(leaf.subject)})`,
        "export both files from the same keystore entry: 'Head only' for the body, 'Entire chain' for the chain",
      ),
    );
    return { problems, notices };
  }
  const ordered = orderChain(leaf, chain.certs);
  if (ordered.missingIssuerOf) {
    const last = ordered.missingIssuerOf;
    problems.push(
      problem(
        chainRef,
        `has no certificate of '${oneLine(last.issuer)}', the issuer of '${oneLine(last.subject)}', so ${ordered.strays.map((c) => `'${oneLine(c.subject)}'`).join(", ")} does not connect to the web certificate`,
        `add the intermediate CA '${oneLine(last.issuer)}' (export the chain again with 'Export length: Entire chain')`,
      ),
    );
  } else if (ordered.strays.length > 0) {
    problems.push(
      problem(chainRef, `holds certificates that are not on the web certificate's path: ${ordered.strays.map((c) => `'${oneLine(c.subject)}'`).join(", ")}`, "remove them: each certificate of the chain must certify the one before it"),
    );
  }
  if (problems.length > 0) return { problems, notices };

  if (ordered.reordered) {
    notices.push(notice("note", chainRef, `is not in order from the web certificate up; synth imports it as ${[leaf, ...ordered.intermediates].map((c) => `'${oneLine(c.subject)}'`).join(" < ")} (each certifies the one before it)`));
  }
  if (ordered.intermediates.length === 0 && !(leaf.checkIssued(leaf) && leaf.verify(leaf.publicKey))) {
    notices.push(
      notice(
        "warning",
        chainRef,
        `holds only the web certificate, which '${oneLine(leaf.issuer)}' issued: ACM gets no intermediate chain, so every device and browser must already trust '${oneLine(leaf.issuer)}'`,
        "export the chain with 'Export length: Entire chain' unless that issuer is a root your devices trust",
      ),
    );
  }
  notices.push(...normalisationNote(bodyRef, bodyRead.text, ["CERTIFICATE"]), ...normalisationNote(chainRef, chainRead.text, ["CERTIFICATE"]));
  const acmChain = ordered.intermediates.map((c) => c.toString()).join("");
  return { problems, notices, acmChain: acmChain || undefined };
}
