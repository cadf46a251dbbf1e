import { FieldReader } from "./records";

/**
 * The certificates of a Certificate handshake message, as the client sent them, leaf first (RFC
 * 5246 section 7.4.2; RFC 8446 section 4.4.2, whose entries also carry extensions). The load
 * balancer judges this list, not one rebuilt from it.
 */
export function certificateList(body: Buffer, tls13: boolean): Buffer[] {
  const r = new FieldReader(body);
  if (tls13) r.vector(1); // certificate_request_context
  const list = r.vector(3);
  const ders: Buffer[] = [];
  while (list.remaining > 0) {
    const der = list.vector(3);
    ders.push(der.bytes(der.remaining));
    if (tls13) list.vector(2); // the entry's extensions
  }
  return ders;
}
