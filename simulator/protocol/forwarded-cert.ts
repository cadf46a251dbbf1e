import { X509Certificate } from "node:crypto";

/**
 * The URL_AWS encoding of a forwarded client certificate: a PEM text URL-encoded the way AWS's ALB
 * does it (`+`, `=` and `/` left as they are) — what the UMS `encodingType: URL_AWS` decodes. nginx's
 * `$ssl_client_escaped_cert` escapes more characters; the decoder accepts both, and `=` raw or %3D.
 */

/** Largest header value the decoders accept (a 4-certificate RSA-4096 chain is ~12 KB encoded). */
export const MAX_FORWARDED_CERT_BYTES = 32 * 1024;

/** Characters left as they are; every other character is percent-encoded (its UTF-8 bytes). */
const ESCAPED = /[^A-Za-z0-9\-_.!~*'()+=/]/gu;

function percentEncode(ch: string): string {
  let out = "";
  for (const byte of Buffer.from(ch, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/**
 * Encodes PEM text as an AWS ALB puts it into X-Amzn-Mtls-Clientcert(-Leaf). One `replace`, so the
 * result is one flat string: built a character at a time it was a chain of ~1,300 concatenations
 * that V8 keeps as such (~40 KiB for one certificate), and the ALB emulator keeps the header for
 * the life of every connection.
 */
export function encodeUrlAws(pem: string): string {
  return pem.replace(ESCAPED, percentEncode);
}

export class ForwardedCertError extends Error {
  constructor(
    readonly reason: "empty" | "too-large" | "bad-encoding" | "not-pem" | "bad-certificate",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Decodes a forwarded-certificate header into its certificates, leaf first. Percent-escapes are
 * decoded; `+` stays `+` (it is base64, not a space). Throws ForwardedCertError with the reason.
 */
export function decodeForwardedCert(value: string | undefined): X509Certificate[] {
  if (value === undefined || value.trim() === "") throw new ForwardedCertError("empty", "the forwarded certificate header is empty");
  if (value.length > MAX_FORWARDED_CERT_BYTES) {
    throw new ForwardedCertError("too-large", `the forwarded certificate header is ${value.length} bytes; at most ${MAX_FORWARDED_CERT_BYTES} are accepted`);
  }
  let pem: string;
  try {
    pem = decodeURIComponent(value);
  } catch {
    throw new ForwardedCertError("bad-encoding", "the forwarded certificate header has a malformed %-escape (expected URL-encoded PEM, encodingType URL_AWS)");
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) throw new ForwardedCertError("not-pem", "the forwarded certificate header holds no PEM certificate (is the proxy URL-encoding the PEM, encodingType URL_AWS?)");
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (e) {
    throw new ForwardedCertError("bad-certificate", `the forwarded certificate does not parse: ${(e as Error).message}`);
  }
}
