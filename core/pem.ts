import { X509Certificate } from "node:crypto";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

export interface PemBlock {
  readonly label: string;
  readonly pem: string;
  readonly der: Buffer;
}

/** Every PEM block in a text, in order. Text outside blocks (comments, bag attributes) is ignored. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const body = match[2].replace(/\s+/g, "");
    blocks.push({ label: match[1], pem: toPem(match[1], Buffer.from(body, "base64")), der: Buffer.from(body, "base64") });
  }
  return blocks;
}

/** The certificates of a PEM bundle, in file order. Throws if a CERTIFICATE block does not parse. */
export function certificatesFromPem(text: string): X509Certificate[] {
  return pemBlocks(text)
    .filter((b) => b.label === "CERTIFICATE")
    .map((b) => new X509Certificate(b.der));
}

export function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A chain as one PEM text, leaf first. */
export function chainToPem(chain: readonly X509Certificate[]): string {
  return chain.map((c) => c.toString()).join("");
}
