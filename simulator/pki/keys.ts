import { generateKeyPair, createPrivateKey, createPublicKey, KeyObject } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { writePrivateFile } from "./files";

const generateKeyPairAsync = promisify(generateKeyPair);

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/**
 * RSA key pair generated natively (OpenSSL, on libuv's thread pool, so several run in parallel).
 * node-forge's own key generation is pure JavaScript and an order of magnitude slower.
 */
export async function generateRsaKeyPair(bits = 2048): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync("rsa", {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "pem" }).toString();
}

/**
 * A directory of cached RSA-2048 device keys (0600). Key generation costs ~150-200 ms a key even
 * natively, so fleets draw from this pool; a fleet larger than the pool reuses keys round-robin
 * (each device still gets its own certificate).
 */
export class KeyPool {
  private readonly cache = new Map<number, KeyPairPem>();

  constructor(readonly dir: string) {}

  private fileOf(index: number): string {
    return path.join(this.dir, `device-key-${String(index).padStart(5, "0")}.pem`);
  }

  /** Makes sure the pool holds at least `size` keys; returns how many were generated now. */
  async ensure(size: number, onProgress?: (done: number, total: number) => void): Promise<number> {
    const missing: number[] = [];
    for (let i = 0; i < size; i++) if (!fs.existsSync(this.fileOf(i))) missing.push(i);
    let done = 0;
    // Bounded parallelism: the thread pool has 4 threads; more in flight only queues.
    const queue = [...missing];
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const pair = await generateRsaKeyPair(2048);
        writePrivateFile(this.fileOf(i), pair.privateKeyPem);
        this.cache.set(i, pair);
        onProgress?.(++done, missing.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, missing.length) }, worker));
    return missing.length;
  }

  /** The key for device `index`, reusing the pool round-robin when the fleet is larger than the pool. */
  key(index: number, poolSize: number): KeyPairPem {
    const slot = index % poolSize;
    let pair = this.cache.get(slot);
    if (!pair) {
      const file = this.fileOf(slot);
      if (!fs.existsSync(file)) throw new Error(`key pool ${this.dir} has no key ${slot}: call ensure(${poolSize}) first`);
      const privateKeyPem = fs.readFileSync(file, "utf8");
      pair = { privateKeyPem, publicKeyPem: publicKeyPemOf(privateKeyPem) };
      this.cache.set(slot, pair);
    }
    return pair;
  }
}

/** Private keys parsed once: signing with a KeyObject skips PEM parsing on every call. */
const keyObjects = new Map<string, KeyObject>();
export function privateKeyObject(privateKeyPem: string): KeyObject {
  let key = keyObjects.get(privateKeyPem);
  if (!key) {
    key = createPrivateKey(privateKeyPem);
    keyObjects.set(privateKeyPem, key);
  }
  return key;
}
