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

export interface PemOnly {
  /** The blocks with the wanted labels, re-encoded: 64-character base64 lines, LF line endings, nothing else. */
  readonly text: string;
  /** What was dropped or changed on the way, in words (empty when the text was already clean). */
  readonly changes: readonly string[];
}

/**
 * The PEM blocks of `text` with one of `labels`, and nothing else: no "Bag Attributes" or other text
 * lines, no blank lines, LF line endings. What AWS reads from a file (ACM's import, a trust store's
 * bundle, a CRL) is PEM only; this is what synth writes.
 */
export function pemOnly(text: string, labels: readonly string[]): PemOnly {
  const blocks = pemBlocks(text);
  const kept = blocks.filter((b) => labels.includes(b.label));
  const out = kept.map((b) => b.pem).join("");
  const changes: string[] = [];
  if (out === text) return { text: out, changes };
  if (text.includes("\r\n")) changes.push("CRLF line endings");
  const outside = text.replace(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g, "").split(/\r?\n/);
  const textLines = outside.filter((l) => l.trim() !== "").length;
  if (textLines > 0) changes.push(`${textLines} text line(s) outside the PEM blocks${/Bag Attributes|localKeyID|friendlyName/.test(text) ? " (Bag Attributes)" : ""}`);
  const blankLines = text.split(/\r?\n/).slice(0, -1).filter((l) => l.trim() === "").length;
  if (blankLines > 0) changes.push(`${blankLines} blank line(s)`);
  const dropped = blocks.filter((b) => !labels.includes(b.label)).map((b) => b.label);
  if (dropped.length > 0) changes.push(`block(s) ${[...new Set(dropped)].join(", ")}`);
  if (changes.length === 0) changes.push("its layout (line width, final newline)");
  return { text: out, changes };
}
