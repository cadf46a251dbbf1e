import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LabPki } from "../../simulator/pki";
import { ImiClient } from "../../simulator/ums";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { spawnEntry, EntryProcess } from "./support/spawn-entry";

/** The mock UMS as its own process: one JSON ready line, JSON logs on stderr, clean stop on SIGTERM. */

let pki: LabPki;
const running: EntryProcess[] = [];

beforeAll(async () => {
  pki = await testLabPki();
});

afterAll(() => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill("SIGKILL");
});

function start(args: string[]): EntryProcess {
  const p = spawnEntry("simulator/ums/main.ts", args);
  running.push(p);
  return p;
}

test("prints one ready line with its endpoints, serves, and stops cleanly on SIGTERM", async () => {
  const ums = start(["--pki", testPkiDir(), "--port", "0", "--enrollment-key", "FROM-THE-COMMAND-LINE", "--heartbeat-ms", "500"]);
  const ready = await ums.nextLine((l) => l.event === "ready");
  expect(ready).toMatchObject({
    component: "ums",
    host: "127.0.0.1",
    url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
    wsUrl: expect.stringMatching(/^wss:\/\/127\.0\.0\.1:\d+\/device-connector\/v1\/ws$/),
    fqdn: pki.fqdn,
    deviceCaChainPath: pki.clientCaChain,
    webRootCertPath: pki.web.rootCert,
    forwarding: { enabled: false },
    adminUser: "admin",
    adminPassword: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/), // made up: no --admin-password, no UMS_EDGE_ADMIN_PASSWORD
  });
  const imi = new ImiClient({ baseUrl: ready.url as string, caFile: ready.webRootCertPath as string, serverName: pki.fqdn, credentials: { username: "admin", password: ready.adminPassword as string } });
  await expect(new ImiClient({ baseUrl: ready.url as string, caFile: ready.webRootCertPath as string, serverName: pki.fqdn }).login()).rejects.toThrow(/IMI answered 401/); // not the old constant
  expect((await imi.request("GET", "/info")).status).toBe(200);
  await expect(imi.mintEnrollmentKeys(2)).resolves.toHaveLength(2);

  ums.child.kill("SIGTERM");
  expect(await ums.exited).toBe(0);
  expect(ums.lines).toHaveLength(1);
  const logs = ums.stderr().trim().split("\n").map((l) => JSON.parse(l));
  expect(logs.map((l) => l.event)).toEqual(expect.arrayContaining(["started", "imi-login", "enrollment-keys-minted", "stopped"]));
  expect(ums.stderr()).not.toContain("FROM-THE-COMMAND-LINE");
});

test("an invalid application.yml: exit 2 with the file, the field and the fix, nothing on stdout", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-proc-"));
  const file = path.join(dir, "application.yml");
  fs.writeFileSync(file, "igel:\n  client-cert-forwarding:\n    enabled: true\n    encodingType: URL_AWS\n");
  try {
    const ums = start(["--pki", testPkiDir(), "--port", "0", "--app-config", file]);
    expect(await ums.exited).toBe(2);
    expect(ums.lines).toEqual([]);
    expect(ums.stderr()).toContain(`${file}: igel.client-cert-forwarding.client-cert-forwarded-header: You must set 'client-cert-forwarded-header' when 'enabled' is true`);
    expect(ums.stderr()).toContain("fix: set it to 'X-Amzn-Mtls-Clientcert-Leaf'");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bad flags and a missing PKI exit 2 with a message", async () => {
  const badPort = start(["--pki", testPkiDir(), "--port", "99999"]);
  expect(await badPort.exited).toBe(2);
  expect(badPort.stderr()).toContain("--port: '99999' is not an integer from 0 to 65535");
  const noPki = start(["--pki", path.join(os.tmpdir(), "ums-edge-no-pki-here")]);
  expect(await noPki.exited).toBe(2);
  expect(noPki.stderr()).toContain("no lab PKI in");
});
