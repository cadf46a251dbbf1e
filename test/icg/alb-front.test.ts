import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LabPki } from "../../simulator/pki";
import { AlbEmulator, StartedAlbEmulator } from "../../simulator/alb";
import { Icg, StartedIcg } from "../../simulator/icg";
import { MockUms, StartedMockUms, ImiClient } from "../../simulator/ums";
import { DeviceFleet } from "../../simulator/device";
import { testLabPki } from "../helpers/lab-pki";
import { synthesizeTestStacks, SynthesizedStacks } from "../alb/helpers/stacks";

/**
 * `icg-alb-verify` and `icg-alb-passthrough` end to end: devices → ALB emulator (from the
 * synthesized stack) → ICG ← UMS. The ICG reads the certificate the ALB forwards, in the header its
 * application.yml names, and the target group's health check `/usg/check-status` keeps it healthy.
 * The UMS connects to the ICG directly (from the private side), not through the ALB.
 */

const HEADER = { verify: "X-Amzn-Mtls-Clientcert-Leaf", passthrough: "X-Amzn-Mtls-Clientcert" } as const;

let pki: LabPki;
let synth: SynthesizedStacks;
let dir: string;

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "icg-alb-verify" }, { variant: "icg-alb-passthrough" }]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-icg-alb-"));
});

afterAll(() => {
  synth?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test.each(["verify", "passthrough"] as const)("icg-alb-%s: devices onboard and are managed through the ALB and the ICG", async (mode) => {
  const appConfig = path.join(dir, `application-${mode}.yml`);
  fs.writeFileSync(appConfig, `igel:\n  client-cert-forwarding:\n    enabled: true\n    encodingType: URL_AWS\n    client-cert-forwarded-header: ${HEADER[mode]}\n`);
  let icg: StartedIcg | undefined;
  let ums: StartedMockUms | undefined;
  let alb: StartedAlbEmulator | undefined;
  try {
    icg = await new Icg({ pki, port: 0, appConfigFile: appConfig }).start();
    ums = await new MockUms({ pki, port: 0, heartbeatMs: 1000, icg: { url: icg.url } }).start();
    alb = await new AlbEmulator({
      stackDir: synth.stacks[`icg-alb-${mode}`],
      target: `127.0.0.1:${icg.port}`,
      ports: mode === "verify" ? { 8443: 0, 443: 0 } : { 8443: 0 },
      healthCheckScale: 0.01,
    }).start();
    const started = alb;
    const imi = new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn });

    // Verify mode: onboarding only via the 443 listener (no client certificate yet); passthrough: 8443.
    const fleet = await new DeviceFleet({
      pki,
      clusterUrl: started.listenerUrl(8443),
      enrollmentUrl: mode === "verify" ? started.listenerUrl(443) : undefined,
      count: 2,
      enrollmentKeys: await imi.mintEnrollmentKeys(2),
      bootMs: 50,
      backoff: { initialMs: 20, maxMs: 200 },
    }).start();
    try {
      await fleet.waitForOnline(2, 20_000);
      const [exec] = await imi.command("settings2tc", [fleet.devices[0].deviceId!], { "via.alb.and.icg": mode });
      expect(await imi.waitForCommand(exec.exec_id)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
      expect(fleet.devices[0].settings).toEqual({ "via.alb.and.icg": mode });
      for (const d of fleet.devices) {
        expect(icg.logs).toContainEqual(expect.objectContaining({ event: "device-relayed", unitId: d.unitId, source: "forwarded-header" }));
      }
      // Health checks go to the ICG's status path, which answers 200 with a UMS connected.
      await fleet.waitFor(() => started.targetHealth().every((t) => t.state === "healthy"), 10_000, "the ICG target healthy");
      expect(icg.logs).toContainEqual(expect.objectContaining({ event: "onboarding-relayed", status: 200, forwardedFor: expect.any(String) }));
    } finally {
      await fleet.stop();
    }
  } finally {
    await alb?.stop();
    await ums?.stop();
    await icg?.stop();
  }
});
