import { FieldReader } from "./records";

/**
 * The certificates of a TLS 1.2 (or older) Certificate handshake message, as the client sent them,
 * leaf first (RFC 5246 section 7.4.2). The load balancer judges this list, not one rebuilt from it.
 */
export function certificateList(body: Buffer): Buffer[] {
  const list = new FieldReader(body).vector(3);
  const ders: Buffer[] = [];
  while (list.remaining > 0) {
    const der = list.vector(3);
    ders.push(der.bytes(der.remaining));
  }
  return ders;
}
