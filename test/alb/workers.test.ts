import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AlbEmulator } from "../../simulator/alb";
import type { AlbEvent, StartedAlbEmulator } from "../../simulator/alb";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";
import { logLines, request } from "./helpers/client";

/** The multi-process mode (node:cluster workers sharing the listeners), run from the sources. */
const REGISTER = path.join(__dirname, "../helpers/ts-register.js");

let pki: LabPki;
let synth: SynthesizedStacks;
let target: EchoTarget;
let alb: StartedAlbEmulator;
let logsDir: string;
const events: AlbEvent[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "ums-alb-verify" }]);
  target = await startEchoTarget(pki);
  logsDir = fs.mkdtempSync(path.join(os.tmpdir(), "alb-workers-"));
  alb = await new AlbEmulator({ stackDir: synth.stacks["ums-alb-verify"], target: target.address, ports: { 8443: 0, 443: 0 }, logsDir, workers: 2, workerExecArgv: ["-r", REGISTER], onEvent: (e) => events.push(e) }).start();
});

afterAll(async () => {
  await alb?.stop();
  await target?.close();
  synth?.cleanup();
  if (logsDir) fs.rmSync(logsDir, { recursive: true, force: true });
});

test("two worker processes serve both listeners, refuse bad certificates, report events and write logs", async () => {
  expect(alb.listeners.every((l) => l.localPort > 0)).toBe(true);
  for (let i = 0; i < 4; i++) {
    const r = await request(`${alb.listenerUrl(8443)}/device-connector/v1/x`, { cert: pki.devices.good });
    expect((JSON.parse(r.body) as EchoReply).headers["x-amzn-mtls-clientcert-subject"]).toMatch(/^CN=lab-device-good,/);
  }
  expect((await request(`${alb.listenerUrl(443)}/umsapi/`)).status).toBe(404);
  await expect(request(`${alb.listenerUrl(8443)}/device-connector/v1/x`, { cert: pki.devices.revoked })).rejects.toThrow();
  await alb.flushLogs();
  expect(logLines(alb.accessLogDir, "access").filter((f) => f[12].includes("/device-connector/v1/x"))).toHaveLength(4);
  expect(logLines(alb.connectionLogDir, "connection").map((f) => f[10])).toContain("Failed:ClientCertCrlHit");
  expect(events).toContainEqual(expect.objectContaining({ kind: "connection-refused", verifyStatus: "Failed:ClientCertCrlHit" }));
  expect(events).toContainEqual(expect.objectContaining({ kind: "request-refused", status: 404 }));
});
