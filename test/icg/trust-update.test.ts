import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadLabPki, LabPki } from "../../simulator/pki";
import { issueDeviceCertificate, revokeInCrl } from "../../simulator/pki/rotation";
import { Icg, StartedIcg } from "../../simulator/icg";
import { MockUms, StartedMockUms } from "../../simulator/ums";
import { testLabPki } from "../helpers/lab-pki";
import { openWs, hello, RawTls } from "./support/clients";

/**
 * A device revoked while everything runs (issue 15 §2): the UMS re-reads its CRL
 * (ums/device-trust-watch.ts) and hands it to the ICG over the tunnel ('trust-update'), so the ICG
 * refuses the device at its next connect without the UMS reconnecting; the session it already had
 * stays open (scenarios/assumptions.ts "ums-crl-update"). A CRL that cannot be used changes nothing.
 */

let pki: LabPki;
let dir: string;
let icg: StartedIcg;
let ums: StartedMockUms;
let device: Awaited<ReturnType<typeof issueDeviceCertificate>>;
const read = (file: string) => fs.readFileSync(file, "utf8");

beforeAll(async () => {
  // A copy of the test PKI: this test rewrites its CRL.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-trust-update-"));
  const shared = await testLabPki();
  fs.cpSync(shared.dir, path.join(dir, "pki"), { recursive: true });
  pki = loadLabPki(path.join(dir, "pki"));
  device = await issueDeviceCertificate({ cert: pki.deviceCa.cert, key: pki.deviceCa.key, presented: pki.deviceCa.chain }, path.join(dir, "device"), "TRUST-UPDATE-1");
  icg = await new Icg({ pki, port: 0 }).start();
  ums = await new MockUms({ pki, port: 0, icg: { url: icg.url, backoff: { initialMs: 50, maxMs: 200 } }, trustPollMs: 50 }).start();
}, 60_000);

afterAll(async () => {
  await ums?.stop();
  await icg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const asDevice = (): RawTls => ({ ca: read(pki.web.rootCert), servername: icg.serverName, cert: read(device.chain), key: read(device.key) });

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("revoked while connected: the ICG hears the new CRL over the tunnel and refuses the next connect; the open session stays", async () => {
  const first = await openWs(icg.wsUrl, asDevice());
  if (first.kind !== "open") throw new Error(`refused before revocation: ${JSON.stringify(first)}`);
  expect((await hello(first.ws, "TRUST-UPDATE-1")).type).toBe("welcome");

  revokeInCrl(pki.crl, pki.deviceCa, device.serialHex);
  await until(() => icg.logs.some((e) => e.event === "device-trust-updated"), "the ICG heard the new CRL");
  expect(ums.logs).toContainEqual(expect.objectContaining({ event: "device-trust-reloaded", toIcg: true }));

  const next = await openWs(icg.wsUrl, asDevice());
  expect(next).toMatchObject({ kind: "refused", status: 401, body: { by: "icg" } });
  expect(first.ws.readyState).toBe(first.ws.OPEN);
  first.ws.close();
});

test("a CRL that cannot be read is refused by the UMS, which keeps the one it had", async () => {
  fs.writeFileSync(pki.crl, "not a CRL\n");
  await until(() => ums.logs.some((e) => e.event === "device-trust-reload-refused"), "the UMS refused the broken CRL");
  const again = await openWs(icg.wsUrl, asDevice());
  expect(again).toMatchObject({ kind: "refused", status: 401 });
});
