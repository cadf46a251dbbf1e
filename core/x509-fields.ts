import type { X509Certificate } from "node:crypto";
import { children, DerError, oidOf, readTlv, smallIntegerOf, TAG, Tlv } from "./der";

/**
 * The certificate fields chain verification needs and Node's X509Certificate does not give (or
 * gives in a lossy form), read from the DER (RFC 5280 section 4.1): the X.509 version, the
 * signature algorithm with its hash (RSASSA-PSS parameters included), basicConstraints, the key
 * usage bits and the extended key usages.
 */

export type SignatureKind = "rsa-pkcs1" | "rsa-pss" | "ecdsa" | "other";

export interface SignatureAlgorithm {
  readonly kind: SignatureKind;
  /** The message digest: sha1, sha256, ...; undefined when the algorithm has none of ours (Ed25519, unknown). */
  readonly hash?: string;
  /** RSASSA-PSS: the MGF1 digest. */
  readonly mgfHash?: string;
  /** For messages: `sha1WithRSAEncryption`, `ecdsa-with-SHA256`, `RSASSA-PSS(sha256)` or the OID. */
  readonly name: string;
}

export type KeyUsageBit = "digitalSignature" | "nonRepudiation" | "keyEncipherment" | "dataEncipherment" | "keyAgreement" | "keyCertSign" | "cRLSign" | "encipherOnly" | "decipherOnly";
const KEY_USAGE_BITS: readonly KeyUsageBit[] = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"];

export interface CertificateFields {
  /** 1, 2 or 3. */
  readonly version: number;
  readonly signature: SignatureAlgorithm;
  /** undefined: no basicConstraints extension. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number };
  /** undefined: no keyUsage extension (any use allowed). */
  readonly keyUsage?: ReadonlySet<KeyUsageBit>;
  /** undefined: no extendedKeyUsage extension (any purpose). OIDs. */
  readonly extendedKeyUsage?: readonly string[];
}

export const EKU = { serverAuth: "1.3.6.1.5.5.7.3.1", clientAuth: "1.3.6.1.5.5.7.3.2", any: "2.5.29.37.0" } as const;

const HASH_BY_OID: Readonly<Record<string, string>> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

/** Signature algorithms with a fixed digest: OID → [kind, hash, name]. */
const SIGNATURE_BY_OID: Readonly<Record<string, readonly [SignatureKind, string | undefined, string]>> = {
  "1.2.840.113549.1.1.4": ["rsa-pkcs1", "md5", "md5WithRSAEncryption"],
  "1.2.840.113549.1.1.5": ["rsa-pkcs1", "sha1", "sha1WithRSAEncryption"],
  "1.2.840.113549.1.1.14": ["rsa-pkcs1", "sha224", "sha224WithRSAEncryption"],
  "1.2.840.113549.1.1.11": ["rsa-pkcs1", "sha256", "sha256WithRSAEncryption"],
  "1.2.840.113549.1.1.12": ["rsa-pkcs1", "sha384", "sha384WithRSAEncryption"],
  "1.2.840.113549.1.1.13": ["rsa-pkcs1", "sha512", "sha512WithRSAEncryption"],
  "1.2.840.10045.4.1": ["ecdsa", "sha1", "ecdsa-with-SHA1"],
  "1.2.840.10045.4.3.1": ["ecdsa", "sha224", "ecdsa-with-SHA224"],
  "1.2.840.10045.4.3.2": ["ecdsa", "sha256", "ecdsa-with-SHA256"],
  "1.2.840.10045.4.3.3": ["ecdsa", "sha384", "ecdsa-with-SHA384"],
  "1.2.840.10045.4.3.4": ["ecdsa", "sha512", "ecdsa-with-SHA512"],
  "1.3.101.112": ["other", undefined, "Ed25519"],
  "1.3.101.113": ["other", undefined, "Ed448"],
};
const RSASSA_PSS = "1.2.840.113549.1.1.10";
const MGF1 = "1.2.840.113549.1.1.8";

/** The digest of an AlgorithmIdentifier naming a hash (RSASSA-PSS parameters). */
function hashOf(buf: Buffer, algorithm: Tlv): string | undefined {
  const [oid] = children(buf, algorithm);
  return HASH_BY_OID[oidOf(buf, oid)] ?? oidOf(buf, oid);
}

/** RSASSA-PSS-params (RFC 4055): hashAlgorithm [0] and maskGenAlgorithm [1], both SHA-1 by default. */
function pssAlgorithm(buf: Buffer, params: Tlv | undefined): SignatureAlgorithm {
  let hash = "sha1";
  let mgfHash = "sha1";
  if (params && params.tag === TAG.SEQUENCE) {
    for (const field of children(buf, params)) {
      const [inner] = children(buf, field);
      if (field.tag === 0xa0) hash = hashOf(buf, inner) ?? hash;
      if (field.tag === 0xa1) {
        const [mgf, mgfParams] = children(buf, inner);
        if (oidOf(buf, mgf) === MGF1 && mgfParams) mgfHash = hashOf(buf, mgfParams) ?? mgfHash;
        else mgfHash = oidOf(buf, mgf);
      }
    }
  }
  return { kind: "rsa-pss", hash, mgfHash, name: `RSASSA-PSS(${hash}, MGF1 ${mgfHash})` };
}

function signatureAlgorithmOf(buf: Buffer, algorithm: Tlv): SignatureAlgorithm {
  const [oid, params] = children(buf, algorithm);
  const dotted = oidOf(buf, oid);
  if (dotted === RSASSA_PSS) return pssAlgorithm(buf, params);
  const known = SIGNATURE_BY_OID[dotted];
  return known ? { kind: known[0], hash: known[1], name: known[2] } : { kind: "other", name: dotted };
}

function keyUsageOf(buf: Buffer, value: Tlv): Set<KeyUsageBit> {
  const bits = readTlv(buf, value.start, value.end);
  if (bits.tag !== TAG.BIT_STRING) throw new DerError("keyUsage is not a BIT STRING");
  const out = new Set<KeyUsageBit>();
  for (let i = 0; i < KEY_USAGE_BITS.length; i++) {
    const byte = bits.start + 1 + (i >> 3);
    if (byte < bits.end && buf[byte] & (0x80 >> (i & 7))) out.add(KEY_USAGE_BITS[i]);
  }
  return out;
}

function basicConstraintsOf(buf: Buffer, value: Tlv): { ca: boolean; pathLength?: number } {
  const seq = readTlv(buf, value.start, value.end);
  let ca = false;
  let pathLength: number | undefined;
  for (const f of children(buf, seq)) {
    if (f.tag === TAG.BOOLEAN) ca = buf[f.start] !== 0;
    else if (f.tag === TAG.INTEGER) pathLength = smallIntegerOf(buf, f);
  }
  return { ca, pathLength };
}

function parseFields(der: Buffer): CertificateFields {
  const cert = readTlv(der, 0);
  const [tbs, sigAlg] = children(der, cert);
  const parts = children(der, tbs);
  let version = 1;
  let i = 0;
  if (parts[0].tag === 0xa0) {
    version = smallIntegerOf(der, children(der, parts[0])[0]) + 1;
    i = 1;
  }
  const fields: { -readonly [K in keyof CertificateFields]: CertificateFields[K] } = { version, signature: signatureAlgorithmOf(der, sigAlg) };
  // serial, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3].
  const extensions = parts.slice(i + 6).find((p) => p.tag === 0xa3);
  if (extensions) {
    for (const ext of children(der, children(der, extensions)[0])) {
      const items = children(der, ext);
      const id = oidOf(der, items[0]);
      const value = items[items.length - 1];
      if (id === "2.5.29.19") fields.basicConstraints = basicConstraintsOf(der, value);
      else if (id === "2.5.29.15") fields.keyUsage = keyUsageOf(der, value);
      else if (id === "2.5.29.37") fields.extendedKeyUsage = children(der, readTlv(der, value.start, value.end)).map((o) => oidOf(der, o));
    }
  }
  return fields;
}

const cache = new WeakMap<X509Certificate, CertificateFields>();

/** The fields of a certificate (parsed once per X509Certificate object). Throws DerError. */
export function certificateFields(cert: X509Certificate): CertificateFields {
  let f = cache.get(cert);
  if (!f) cache.set(cert, (f = parseFields(cert.raw)));
  return f;
}
