import { createHash, randomBytes } from "node:crypto";

/**
 * One-time enrollment keys: a device onboards with one, and it is spent. The store keeps a key's
 * SHA-256 only (`keyHash`); logs name a key only by a short hash (`keyRef`), never the key itself.
 */

export type KeyCheck = "usable" | "unknown" | "used";

/** 24 random bytes as base32-ish text: easy to paste, not guessable. */
export function newKey(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from(randomBytes(24), (b) => alphabet[b % alphabet.length])
    .join("")
    .replace(/(.{6})(?!$)/g, "$1-");
}

/** What the store keeps of a key. */
export function keyHash(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** A reference to a key that is safe to log. */
export function keyRef(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 10);
}

/** Where the UMS keeps its one-time enrollment keys (only their hashes: store/sql-store.ts). */
export interface EnrollmentKeys {
  /** Adds keys given from outside (e.g. on the command line); keys already known keep their state. */
  add(keys: readonly string[]): Promise<void>;
  mint(count: number): Promise<string[]>;
  check(key: string): Promise<KeyCheck>;
  /** Spends a key in one statement, so two requests (or two servers) racing with one key cannot both win. */
  consume(key: string): Promise<KeyCheck>;
  counts(): Promise<{ readonly usable: number; readonly used: number }>;
}
