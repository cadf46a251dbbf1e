import { X509Certificate, verify as cryptoVerify } from "node:crypto";
import forge from "node-forge";
import { pemBlocks } from "./pem";

/*
 * Reading CRLs (RFC 5280 section 5): Node's crypto cannot parse them, so this uses node-forge's ASN.1
 * primitives. Shared by the config checks (stacks/) and the simulator (ALB, UMS, ICG, nginx).
 */
const { asn1 } = forge;

export interface ParsedCrl {
  /** The issuer name as DER, compared byte-for-byte with certificates' issuer names. */
  readonly issuerDer: Buffer;
  /** The issuer name as an RFC 2253 string (`CN=Device CA,OU=device-ca,O=IGEL Lab`), for people. */
  readonly issuerName: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly revokedSerials: ReadonlySet<string>;
  /** True when the CRL's signature verifies with `issuer`'s public key. */
  isSignedBy(issuer: X509Certificate): boolean;
}

export class CrlError extends Error {}

/** Normalised serial: upper-case hex without leading zeros (Node's X509Certificate.serialNumber form). */
export function normaliseSerial(hex: string): string {
  return hex.replace(/^(00)+/, "").toUpperCase() || "00";
}

function asn1Time(node: forge.asn1.Asn1): Date {
  const value = node.value as string;
  return node.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(value) : asn1.generalizedTimeToDate(value);
}

/** Short names of the attribute types CA names use (RFC 4514 section 3, plus emailAddress). */
const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/** A DER Name as RFC 2253 text: most specific RDN first, special characters escaped. */
function nameToString(name: forge.asn1.Asn1): string {
  const rdns = (name.value as forge.asn1.Asn1[]).map((set) =>
    (set.value as forge.asn1.Asn1[])
      .map((atv) => {
        const [type, value] = atv.value as forge.asn1.Asn1[];
        const oid = asn1.derToOid(type.value as string);
        const raw = typeof value.value === "string" ? value.value : "";
        // UTF8String holds UTF-8 bytes; the printable and IA5 types are ASCII.
        const text = value.type === asn1.Type.UTF8 ? forge.util.decodeUtf8(raw) : raw;
        return `${SHORT_NAMES[oid] ?? oid}=${text.replace(/([,+"\\<>;])/g, "\\$1")}`;
      })
      .join("+"),
  );
  return rdns.reverse().join(",");
}

/** Parses every CRL in a PEM text. Throws CrlError naming what is wrong. */
export function parseCrls(pemText: string): ParsedCrl[] {
  const blocks = pemBlocks(pemText).filter((b) => b.label === "X509 CRL");
  if (blocks.length === 0) throw new CrlError("no '-----BEGIN X509 CRL-----' block found");
  return blocks.map((b) => parseCrlDer(b.der));
}

/** Digest of the signature algorithms CAs use for CRLs (RSA PKCS#1 v1.5 and ECDSA). */
const DIGEST_BY_OID: Record<string, string> = {
  "1.2.840.113549.1.1.5": "sha1",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};
function digestOf(oid: string): string | undefined {
  return DIGEST_BY_OID[oid];
}

function parseCrlDer(der: Buffer): ParsedCrl {
  let root: forge.asn1.Asn1;
  try {
    root = asn1.fromDer(der.toString("binary"));
  } catch (e) {
    throw new CrlError(`CRL is not valid DER: ${(e as Error).message}`);
  }
  const [tbs, sigAlg, sigBits] = root.value as forge.asn1.Asn1[];
  const digest = digestOf(asn1.derToOid((sigAlg.value as forge.asn1.Asn1[])[0].value as string));
  const parts = tbs.value as forge.asn1.Asn1[];
  let i = 0;
  if (parts[i].type === asn1.Type.INTEGER) i++; // version
  i++; // signature algorithm
  const issuerNode = parts[i++];
  const issuerDer = Buffer.from(asn1.toDer(issuerNode).getBytes(), "binary");
  const issuerName = nameToString(issuerNode);
  const thisUpdate = asn1Time(parts[i++]);
  let nextUpdate: Date | undefined;
  if (parts[i] && (parts[i].type === asn1.Type.UTCTIME || parts[i].type === asn1.Type.GENERALIZEDTIME)) nextUpdate = asn1Time(parts[i++]);
  const revokedSerials = new Set<string>();
  if (parts[i] && parts[i].tagClass === asn1.Class.UNIVERSAL && parts[i].type === asn1.Type.SEQUENCE) {
    for (const entry of parts[i].value as forge.asn1.Asn1[]) {
      const serial = (entry.value as forge.asn1.Asn1[])[0].value as string;
      revokedSerials.add(normaliseSerial(forge.util.bytesToHex(serial)));
    }
  }
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "binary");
  const signature = Buffer.from((sigBits.value as string).slice(1), "binary");
  return {
    issuerDer,
    issuerName,
    thisUpdate,
    nextUpdate,
    revokedSerials,
    isSignedBy(issuer: X509Certificate) {
      try {
        return digest !== undefined && cryptoVerify(digest, tbsDer, issuer.publicKey, signature);
      } catch {
        return false;
      }
    },
  };
}
