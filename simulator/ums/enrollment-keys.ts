import { createHash, randomBytes } from "node:crypto";

/**
 * One-time enrollment keys: a device onboards with one, and it is spent. Keys are compared as
 * given; logs name a key only by a short hash (`keyRef`), never the key itself.
 */

export type KeyCheck = "usable" | "unknown" | "used";

/** 24 random bytes as base32-ish text: easy to paste, not guessable. */
function newKey(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from(randomBytes(24), (b) => alphabet[b % alphabet.length])
    .join("")
    .replace(/(.{6})(?!$)/g, "$1-");
}

/** A reference to a key that is safe to log. */
export function keyRef(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 10);
}

export class EnrollmentKeys {
  /** key → spent? */
  private readonly keys = new Map<string, boolean>();

  constructor(initial: readonly string[] = []) {
    this.add(initial);
  }

  /** Adds keys given from outside (e.g. on the command line); keys already known keep their state. */
  add(keys: readonly string[]): void {
    for (const k of keys) if (k.length > 0 && !this.keys.has(k)) this.keys.set(k, false);
  }

  mint(count: number): string[] {
    const minted = Array.from({ length: count }, newKey);
    this.add(minted);
    return minted;
  }

  check(key: string): KeyCheck {
    const spent = this.keys.get(key);
    return spent === undefined ? "unknown" : spent ? "used" : "usable";
  }

  /** Spends a key; synchronous, so two requests racing with one key cannot both win. */
  consume(key: string): KeyCheck {
    const state = this.check(key);
    if (state === "usable") this.keys.set(key, true);
    return state;
  }

  get counts(): { readonly usable: number; readonly used: number } {
    let used = 0;
    for (const spent of this.keys.values()) if (spent) used++;
    return { usable: this.keys.size - used, used };
  }
}
