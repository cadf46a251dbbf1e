import * as fs from "node:fs";
import * as path from "node:path";

/** Writes a private key (or anything secret): owner-only, 0600, parent directory created 0700. */
export function writePrivateFile(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, data, { mode: 0o600 });
  // writeFileSync keeps the mode of an existing file: enforce it.
  fs.chmodSync(file, 0o600);
}

/** Writes a public artefact (certificate, CRL, manifest). */
export function writePublicFile(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data, { mode: 0o644 });
}
