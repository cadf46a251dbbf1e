import * as fs from "node:fs";
import { createPrivateKey, KeyObject, X509Certificate } from "node:crypto";
import { pemBlocks } from "../../core/pem";
import { parseCrls } from "../../core/crl-reader";
import type { Problem } from "../../core/errors";

/**
 * Checks of the certificate files a config names, done before anything is synthesized: the
 * mistakes that AWS would otherwise report only at `terraform apply` (or never).
 */

/** AWS: a trust store CA chain and client chains may be at most 4 levels deep. */
export const MAX_CA_LEVELS = 4;
/** ACM refuses private keys larger than 5 KB. */
const MAX_ACM_KEY_BYTES = 5120;

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

type Read = { ok: true; text: string } | { ok: false; problem: Problem };

function read(ref: FileRef, what: string, fix: string): Read {
  try {
    return { ok: true, text: fs.readFileSync(ref.absolute, "utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not readable (permission denied)" : `cannot be read (${code})`;
    return {
      ok: false,
      problem: { file: ref.configFile, field: ref.field, problem: `${what} '${ref.given}' ${why} (looked at ${ref.absolute})`, fix },
    };
  }
}

function problem(ref: FileRef, text: string, fix: string): Problem {
  return { file: ref.configFile, field: ref.field, problem: `'${ref.given}': ${text}`, fix };
}

function parseCertificates(ref: FileRef, text: string): { certs: X509Certificate[]; problem?: Problem } {
  const blocks = pemBlocks(text);
  const certBlocks = blocks.filter((b) => b.label === "CERTIFICATE");
  if (certBlocks.length === 0) {
    return { certs: [], problem: problem(ref, "holds no PEM certificate ('-----BEGIN CERTIFICATE-----')", "export it in PEM format (KeyStore Explorer: 'PEM' ticked), not DER or PKCS#12") };
  }
  try {
    return { certs: certBlocks.map((b) => new X509Certificate(b.der)) };
  } catch (e) {
    return { certs: [], problem: problem(ref, `has a certificate block that does not parse (${(e as Error).message})`, "export the file again; do not edit PEM blocks by hand") };
  }
}

/** Longest issuer path inside a bundle, in certificates. */
export function caLevels(certs: readonly X509Certificate[]): number {
  const depth = (cert: X509Certificate, seen: Set<X509Certificate>): number => {
    if (seen.has(cert)) return 0;
    const issuer = certs.find((c) => c !== cert && cert.checkIssued(c) && cert.verify(c.publicKey));
    return 1 + (issuer ? depth(issuer, new Set([...seen, cert])) : 0);
  };
  return Math.max(...certs.map((c) => depth(c, new Set())));
}

/** The UMS client certificate chain that becomes the trust store bundle. */
export function checkClientCaChain(ref: FileRef): Problem[] {
  const fix = "export it again from UMS Administration > Global Configuration > Server Network Settings > Export Client Certificate Chain (PEM)";
  const r = read(ref, "the client certificate chain", fix);
  if (!r.ok) return [r.problem];
  const { certs, problem: p } = parseCertificates(ref, r.text);
  if (p) return [p];
  const problems: Problem[] = [];
  const notCa = certs.filter((c) => !c.ca);
  if (notCa.length > 0) {
    problems.push(problem(ref, `holds ${notCa.length} certificate(s) that are not CAs (${notCa.map((c) => c.subject.replace(/\n/g, ",")).join("; ")})`, "a trust store holds CA certificates only; remove device or server certificates from the bundle"));
  }
  const levels = caLevels(certs);
  if (levels > MAX_CA_LEVELS) {
    problems.push(problem(ref, `has a CA chain ${levels} levels deep; AWS trust stores accept at most ${MAX_CA_LEVELS}`, `shorten the chain to ${MAX_CA_LEVELS} levels or fewer`));
  }
  return problems;
}

export function checkCrl(ref: FileRef, caChain?: FileRef): Problem[] {
  const fix = "give a PEM CRL ('-----BEGIN X509 CRL-----') issued by a CA of the client certificate chain";
  const r = read(ref, "the CRL", fix);
  if (!r.ok) return [r.problem];
  let crls;
  try {
    crls = parseCrls(r.text);
  } catch (e) {
    return [problem(ref, (e as Error).message, fix)];
  }
  if (!caChain) return [];
  let cas: X509Certificate[] = [];
  try {
    cas = pemBlocks(fs.readFileSync(caChain.absolute, "utf8")).filter((b) => b.label === "CERTIFICATE").map((b) => new X509Certificate(b.der));
  } catch {
    return []; // the chain's own check reports it
  }
  const orphan = crls.findIndex((crl) => !cas.some((ca) => crl.isSignedBy(ca)));
  return orphan >= 0 ? [problem(ref, `CRL #${orphan + 1} is not signed by any CA in ${caChain.given}`, fix)] : [];
}

export interface WebCertificateRefs {
  readonly privateKey: FileRef;
  readonly headOnlyBody: FileRef;
  readonly entireChain: FileRef;
}

/** The three files the IGEL guide exports from the UMS keystore, checked the way ACM would. */
export function checkWebCertificate(refs: WebCertificateRefs, fqdn: string): Problem[] {
  const keyRead = read(refs.privateKey, "the private key", "export the key pair's private key from KeyStore Explorer: type OpenSSL, unencrypted, PEM");
  const bodyRead = read(refs.headOnlyBody, "the certificate body", "export the certificate chain with 'Export length: Head only', PEM");
  const chainRead = read(refs.entireChain, "the certificate chain", "export the certificate chain with 'Export length: Entire chain', PEM");
  const problems = [keyRead, bodyRead, chainRead].flatMap((r) => (r.ok ? [] : [r.problem]));
  if (!keyRead.ok || !bodyRead.ok || !chainRead.ok) return problems;

  let key: KeyObject | undefined;
  const keyBlocks = pemBlocks(keyRead.text);
  if (keyBlocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY") || /Proc-Type: 4,ENCRYPTED/.test(keyRead.text)) {
    problems.push(problem(refs.privateKey, "is encrypted; ACM imports unencrypted keys only", "export it again from KeyStore Explorer with 'Encrypt' unticked"));
  } else {
    try {
      key = createPrivateKey(keyRead.text);
    } catch (e) {
      problems.push(problem(refs.privateKey, `is not a PEM private key (${(e as Error).message})`, "export the private key as type OpenSSL, PEM"));
    }
    if (Buffer.byteLength(keyRead.text) > MAX_ACM_KEY_BYTES) {
      problems.push(problem(refs.privateKey, `is ${Buffer.byteLength(keyRead.text)} bytes; ACM accepts private keys up to ${MAX_ACM_KEY_BYTES}`, "use an RSA-2048/4096 or ECDSA key"));
    }
  }

  const body = parseCertificates(refs.headOnlyBody, bodyRead.text);
  const chain = parseCertificates(refs.entireChain, chainRead.text);
  if (body.problem) problems.push(body.problem);
  if (chain.problem) problems.push(chain.problem);
  if (body.problem || chain.problem) return problems;

  const leaf = body.certs[0];
  if (body.certs.length !== 1) {
    problems.push(problem(refs.headOnlyBody, `holds ${body.certs.length} certificates; the body is the head of the chain only`, "export the certificate chain again with 'Export length: Head only'"));
  }
  if (chain.certs[0].fingerprint256 !== leaf.fingerprint256) {
    problems.push(
      problem(
        refs.entireChain,
        `does not start with the certificate of ${refs.headOnlyBody.given} (chain head: ${chain.certs[0].subject.replace(/\n/g, ",")}; body: ${leaf.subject.replace(/\n/g, ",")})`,
        "export both files from the same keystore entry: 'Head only' for the body, 'Entire chain' for the chain",
      ),
    );
  }
  if (key && !leaf.checkPrivateKey(key)) {
    problems.push(
      problem(refs.privateKey, `does not match the certificate in ${refs.headOnlyBody.given}`, "export the private key of the same keystore entry (compare the entry name with the serial number the UMS shows)"),
    );
  }
  const now = Date.now();
  if (Date.parse(leaf.validTo) < now || Date.parse(leaf.validFrom) > now) {
    problems.push(problem(refs.headOnlyBody, `is not valid now (valid ${leaf.validFrom} to ${leaf.validTo}); ACM refuses to import it`, "create a new web certificate in the UMS and export it again"));
  }
  if (!leaf.checkHost(fqdn)) {
    problems.push(
      problem(refs.headOnlyBody, `does not name the cluster FQDN '${fqdn}' (subject alternative names: ${leaf.subjectAltName ?? "none"})`, "the IGEL guide requires the cluster FQDN in the web certificate: create one that includes it, or correct cluster.fqdn"),
    );
  }
  return problems;
}
