import { createHash } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { initLabPki, LabPki } from "../../simulator/pki/lab-pki";

/** Checkouts of the project on one machine (git worktrees) must not share test PKIs: one may regenerate what another uses. */
const CHECKOUT = createHash("sha256").update(path.resolve(__dirname, "../..")).digest("hex").slice(0, 8);

/**
 * A lab PKI for tests, generated at test time (never committed). One directory per checkout and
 * Jest worker so parallel workers never write the same files; reused across runs while it is fresh
 * (initLabPki checks), so most test files pay nothing for it.
 */
export function testPkiDir(name = "pki"): string {
  return testDir(name);
}

/** A per-checkout, per-Jest-worker directory for generated test material. */
export function testDir(name: string): string {
  return path.join(os.tmpdir(), `ums-edge-test-${CHECKOUT}`, `${name}-w${process.env.JEST_WORKER_ID ?? "0"}`);
}

export async function testLabPki(name = "pki"): Promise<LabPki> {
  return initLabPki(testPkiDir(name));
}
