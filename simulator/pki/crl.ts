import forge from "node-forge";
import { signBytes } from "./native-sign";
import { toPem } from "../../core/pem";

/*
 * node-forge has no CRL support, so lab CRLs are written here with forge's ASN.1 primitives
 * (RFC 5280 section 5); core/crl-reader.ts reads them.
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
