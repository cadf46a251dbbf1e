import * as fs from "node:fs";
import * as path from "node:path";
import { lintTrustStore } from "../../simulator/lint/lint-trust-store";
import { createDeviceCa, DeviceCaFiles } from "../../simulator/pki/rotation";
import { readStack } from "../../simulator/terraform/read-stack";
import type { Lab } from "../../simulator/runtime/lab";
import { testLab } from "../helpers/lab";
import { tempDir } from "../helpers/config";

/**
 * lint's trust store check (docs/rotation.md): given the device CA chain the UMS exports now, a
 * verify stack whose bundle lacks one of those CAs locks that CA's devices out, and lint says so
 * before anything is applied.
 */

let lab: Lab;
let dir: string;
let newCa: DeviceCaFiles;
let oldChain: string;
let newChain: string;

beforeAll(async () => {
  lab = await testLab();
  dir = tempDir("ums-edge-lint-ts-");
  newCa = await createDeviceCa(path.join(dir, "new-ca"), "Lint Rotated");
  oldChain = fs.readFileSync(lab.pki.clientCaChain, "utf8");
  newChain = fs.readFileSync(newCa.chain, "utf8");
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A copy of the lab's verify stack whose trust store bundle asset holds `pem` (what synth writes from certificates.clientCaChain). */
function verifyStackWithBundle(name: string, pem: string): string {
  const copy = path.join(dir, name);
  fs.cpSync(lab.stackDir("ums-alb-verify"), copy, { recursive: true });
  const bundle = readStack(copy).listeners.find((l) => l.mutualAuthentication.trustStore)!.mutualAuthentication.trustStore!.caBundleFile;
  fs.writeFileSync(bundle, pem);
  return copy;
}

function file(name: string, pem: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, pem);
  return f;
}

test("without the UMS's chain lint cannot know, and says so", () => {
  const [finding] = lintTrustStore(lab.stackDir("ums-alb-verify"), undefined);
  expect(finding.status).toBe("info");
  expect(finding.detail).toMatch(/cannot be known from the stack: give --device-cas/);
});

test("a passthrough stack has no trust store to check", () => {
  expect(lintTrustStore(lab.stackDir("ums-alb-passthrough"), lab.pki.clientCaChain)).toEqual([]);
});

test("the bundle the lab synthesized holds every CA of the UMS's chain", () => {
  expect(lintTrustStore(lab.stackDir("ums-alb-verify"), lab.pki.clientCaChain)).toEqual([expect.objectContaining({ status: "pass" })]);
});

test("old CA removed from the bundle while the UMS still uses it: fail, naming the CA whose devices are locked out", () => {
  const stack = verifyStackWithBundle("new-only", newChain);
  const findings = lintTrustStore(stack, file("ums-both.pem", oldChain + newChain));
  const fail = findings.find((f) => f.status === "fail");
  expect(fail?.detail).toMatch(/lacks CN=UMS Lab Device CA, CN=UMS Lab Device Root CA, which the UMS still uses/);
  expect(fail?.detail).toMatch(/Failed:ClientCertUntrusted/);
});

test("the overlap (bundle old + new) passes; once the UMS dropped the old CA, the old one is a leftover to remove", () => {
  const stack = verifyStackWithBundle("both", oldChain + newChain);
  expect(lintTrustStore(stack, file("ums-both-2.pem", oldChain + newChain)).map((f) => f.status)).toEqual(["pass"]);
  const after = lintTrustStore(stack, file("ums-new.pem", newChain));
  expect(after.map((f) => f.status)).toEqual(["pass", "info"]);
  expect(after[1].detail).toMatch(/^CN=UMS Lab Device CA, CN=UMS Lab Device Root CA in the trust store but not in the UMS's chain/);
});

test("a bundle holding only the root still admits devices of the issuing CA under it", () => {
  const root = oldChain.slice(oldChain.indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length).trim() + "\n";
  const stack = verifyStackWithBundle("root-only", root);
  expect(lintTrustStore(stack, lab.pki.clientCaChain)[0].status).toBe("pass");
});

test("an unreadable --device-cas file is a clear error naming the option", () => {
  expect(() => lintTrustStore(lab.stackDir("ums-alb-verify"), path.join(dir, "missing.pem"))).toThrow(/--device-cas .*missing\.pem: cannot read it \(ENOENT\)/);
});
