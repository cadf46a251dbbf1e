import { X509Certificate, verify as cryptoVerify } from "node:crypto";
import forge from "node-forge";
import { signBytes } from "./native-sign";
import { pemBlocks, toPem } from "./pem";

/*
 * node-forge has no CRL support and Node's crypto cannot parse CRLs, so both directions are
 * written here with forge's ASN.1 primitives (RFC 5280 section 5).
 */
const { asn1 } = forge;
const SHA256_WITH_RSA = forge.pki.oids.sha256WithRSAEncryption;

export interface RevokedEntry {
  readonly serialHex: string;
  readonly revokedAt: Date;
}

export interface CrlRequest {
  readonly issuerCertificatePem: string;
  readonly issuerPrivateKeyPem: string;
  readonly revoked: readonly RevokedEntry[];
  /** @default now minus one hour */
  readonly thisUpdate?: Date;
  /** @default thisUpdate plus 30 days */
  readonly nextUpdate?: Date;
  /** @default 1 */
  readonly crlNumber?: number;
}

function time(date: Date): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date));
}

function integerFromHex(hex: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(hex.length % 2 ? `0${hex}` : hex));
}

/** Builds a v2 CRL signed (natively) by the issuing CA; returns its PEM ("X509 CRL"). */
export function buildCrl(req: CrlRequest): string {
  const issuer = forge.pki.certificateFromPem(req.issuerCertificatePem);
  const thisUpdate = req.thisUpdate ?? new Date(Date.now() - 3_600_000);
  const nextUpdate = req.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * 86_400_000);
  const algorithm = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SHA256_WITH_RSA).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ""),
  ]);
  const tbsParts: forge.asn1.Asn1[] = [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(1).getBytes()), // v2
    algorithm,
    forge.pki.distinguishedNameToAsn1(issuer.subject),
    time(thisUpdate),
    time(nextUpdate),
  ];
  if (req.revoked.length > 0) {
    tbsParts.push(
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.SEQUENCE,
        true,
        req.revoked.map((r) =>
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [integerFromHex(r.serialHex), time(r.revokedAt)]),
        ),
      ),
    );
  }
  // crlExtensions [0]: cRLNumber (2.5.29.20), required by RFC 5280 for conforming CAs.
  tbsParts.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer("2.5.29.20").getBytes()),
          asn1.create(
            asn1.Class.UNIVERSAL,
            asn1.Type.OCTETSTRING,
            false,
            asn1.toDer(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(req.crlNumber ?? 1).getBytes())).getBytes(),
          ),
        ]),
      ]),
    ]),
  );
  const tbs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, tbsParts);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "binary");
  const signature = signBytes(tbsDer, req.issuerPrivateKeyPem);
  const crl = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithm,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(0) + signature.toString("binary")),
  ]);
  return toPem("X509 CRL", Buffer.from(asn1.toDer(crl).getBytes(), "binary"));
}

export interface ParsedCrl {
  /** The issuer name as DER, compared byte-for-byte with certificates' issuer names. */
  readonly issuerDer: Buffer;
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
  const issuerDer = Buffer.from(asn1.toDer(parts[i++]).getBytes(), "binary");
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
