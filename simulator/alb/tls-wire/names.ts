/**
 * IANA code points (TLS parameters registry) as the names the load balancer's logs use: OpenSSL's
 * cipher names in `ssl_cipher`/`tls_cipher` (AWS's logs and security-policy tables use them), the
 * protocol as `TLSv1.2`, and the key exchange group's IANA name in `tls_keyexchange`.
 */

const CIPHER_NAMES: Readonly<Record<number, string>> = {
  0x1301: "TLS_AES_128_GCM_SHA256",
  0x1302: "TLS_AES_256_GCM_SHA384",
  0x1303: "TLS_CHACHA20_POLY1305_SHA256",
  0x1304: "TLS_AES_128_CCM_SHA256",
  0x1305: "TLS_AES_128_CCM_8_SHA256",
  0xc02b: "ECDHE-ECDSA-AES128-GCM-SHA256",
  0xc02f: "ECDHE-RSA-AES128-GCM-SHA256",
  0xc023: "ECDHE-ECDSA-AES128-SHA256",
  0xc027: "ECDHE-RSA-AES128-SHA256",
  0xc009: "ECDHE-ECDSA-AES128-SHA",
  0xc013: "ECDHE-RSA-AES128-SHA",
  0xc02c: "ECDHE-ECDSA-AES256-GCM-SHA384",
  0xc030: "ECDHE-RSA-AES256-GCM-SHA384",
  0xc024: "ECDHE-ECDSA-AES256-SHA384",
  0xc028: "ECDHE-RSA-AES256-SHA384",
  0xc014: "ECDHE-RSA-AES256-SHA",
  0xc00a: "ECDHE-ECDSA-AES256-SHA",
  0x009c: "AES128-GCM-SHA256",
  0x003c: "AES128-SHA256",
  0x002f: "AES128-SHA",
  0x009d: "AES256-GCM-SHA384",
  0x003d: "AES256-SHA256",
  0x0035: "AES256-SHA",
  0x000a: "DES-CBC3-SHA",
  0xcca8: "ECDHE-RSA-CHACHA20-POLY1305",
  0xcca9: "ECDHE-ECDSA-CHACHA20-POLY1305",
  0x009e: "DHE-RSA-AES128-GCM-SHA256",
  0x009f: "DHE-RSA-AES256-GCM-SHA384",
};

const GROUP_NAMES: Readonly<Record<number, string>> = {
  23: "secp256r1",
  24: "secp384r1",
  25: "secp521r1",
  29: "x25519",
  30: "x448",
  256: "ffdhe2048",
  257: "ffdhe3072",
  4587: "SecP256r1MLKEM768",
  4588: "X25519MLKEM768",
  4589: "SecP384r1MLKEM1024",
};

const VERSION_NAMES: Readonly<Record<number, string>> = { 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3" };

const hex = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;

export function cipherName(code: number): string {
  return CIPHER_NAMES[code] ?? hex(code);
}

const CIPHER_CODES = new Map(Object.entries(CIPHER_NAMES).map(([code, name]) => [name, Number(code)]));

/** The code point of a cipher by its OpenSSL name (TLS 1.3 suites: also their IANA name). */
export function cipherCode(name: string): number | undefined {
  return CIPHER_CODES.get(name);
}

export function groupName(code: number): string {
  return GROUP_NAMES[code] ?? hex(code);
}

export function versionName(code: number): string {
  return VERSION_NAMES[code] ?? hex(code);
}
