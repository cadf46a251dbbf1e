/**
 * A minimal DER (X.690) reader: enough to walk a certificate's structure without a full ASN.1
 * library, for the fields Node's X509Certificate does not expose (version, signature algorithm,
 * key usage bits). Throws DerError on anything that is not well-formed DER.
 */

export class DerError extends Error {}

/** One TLV: `tag` is the identifier octet; the content is `buf[start, end)`. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

export const TAG = { BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30 } as const;

/** The TLV starting at `offset` (which must lie before `limit`). */
export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated element at byte ${offset}`);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at byte ${offset}`);
  let length = buf[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`unsupported length form at byte ${offset}`);
    if (start + n > limit) throw new DerError(`truncated length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[start + i];
    start += n;
  }
  const end = start + length;
  if (end > limit) throw new DerError(`element at byte ${offset} runs past its container`);
  return { tag, start, end };
}

/** The elements inside a constructed TLV, in order. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(buf, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER's content. */
export function oidOf(buf: Buffer, t: Tlv): string {
  if (t.tag !== TAG.OID || t.end <= t.start) throw new DerError("expected an OBJECT IDENTIFIER");
  const first = buf[t.start];
  const arcs = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let value = 0;
  for (let i = t.start + 1; i < t.end; i++) {
    value = value * 128 + (buf[i] & 0x7f);
    if (!(buf[i] & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join(".");
}

/** A small non-negative INTEGER (versions, path lengths). */
export function smallIntegerOf(buf: Buffer, t: Tlv): number {
  if (t.tag !== TAG.INTEGER || t.end - t.start > 4) throw new DerError("expected a small INTEGER");
  let v = 0;
  for (let i = t.start; i < t.end; i++) v = v * 256 + buf[i];
  return v;
}
