import * as os from "node:os";
import * as path from "node:path";
import { initLabPki, LabPki } from "../../simulator/pki/lab-pki";

/**
 * A lab PKI for tests, generated at test time (never committed). One directory per Jest worker so
 * parallel workers never write the same files; reused across runs while it is fresh (initLabPki
 * checks), so most test files pay nothing for it.
 */
export function testPkiDir(name = "pki"): string {
  return path.join(os.tmpdir(), "ums-edge-test", `${name}-w${process.env.JEST_WORKER_ID ?? "0"}`);
}

export async function testLabPki(name = "pki"): Promise<LabPki> {
  return initLabPki(testPkiDir(name));
}
