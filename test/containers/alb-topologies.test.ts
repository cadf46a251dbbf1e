import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { logLines as readLogLines } from "../../simulator/alb/log-reader";
import type { LabPki } from "../../simulator/pki";
import { ImiClient } from "../../simulator/ums/imi-client";
import { ContainerTopology, StartedContainerTopology, StartedAlbEmulatorContainer, StartedDeviceFleetContainer } from "../../simulator/runtime/containers";
import { testLabPki } from "../helpers/lab-pki";
import { synthesizeTestStacks, SynthesizedStacks } from "../alb/helpers/stacks";
import { describeWithEngine } from "./support/availability";

/**
 * The ALB topologies with every component in its own container: devices on the devices' network,
 * the ALB emulator on it and on the UMS's internal network, the UMS on the internal network only.
 * Devices onboard and are managed through the ALB; a device cannot reach the UMS itself.
 */

const FAST = { bootMs: 50, backoff: { initialMs: 100, maxMs: 500 }, handshakeTimeoutMs: 5000 } as const;
const KEYS = ["ek-container-1", "ek-container-2"];

function findFiles(dir: string, name: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && name.test(e.name)).map((e) => path.join(e.parentPath, e.name));
}

/** Stops fleets started inside a test, whatever happens. */
async function withFleets<T>(fn: (track: (f: StartedDeviceFleetContainer) => StartedDeviceFleetContainer) => Promise<T>): Promise<T> {
  const fleets: StartedDeviceFleetContainer[] = [];
  try {
    return await fn((f) => (fleets.push(f), f));
  } finally {
    await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
  }
}

describeWithEngine("ALB topologies in containers", () => {
  let pki: LabPki;
  let synth: SynthesizedStacks;

  beforeAll(async () => {
    pki = await testLabPki();
    synth = await synthesizeTestStacks([{ variant: "ums-alb-verify" }, { variant: "ums-alb-passthrough" }]);
  });

  afterAll(() => synth?.cleanup());

  describe.each([
    ["alb-verify", "ums-alb-verify", "X-Amzn-Mtls-Clientcert-Leaf"],
    ["alb-passthrough", "ums-alb-passthrough", "X-Amzn-Mtls-Clientcert"],
  ] as const)("%s", (topology, stackName, header) => {
    let topo: StartedContainerTopology;
    let alb: StartedAlbEmulatorContainer;
    let imi: ImiClient;

    beforeAll(async () => {
      topo = await new ContainerTopology({ topology, pki: pki.dir, stackDir: synth.stacks[stackName], enrollmentKeys: KEYS, ums: { heartbeatMs: 500 } }).start();
      alb = topo.front as StartedAlbEmulatorContainer;
      imi = new ImiClient({ baseUrl: topo.ums.getUrl(), caFile: pki.web.rootCert, serverName: pki.fqdn, credentials: topo.ums.getAdminCredentials() });
    });

    afterAll(async () => {
      await topo?.stop();
    });

    test("the UMS is on an internal network the devices' network is not, and reads the stack's forwarding header", () => {
      expect(topo.umsNetwork.isInternal()).toBe(true);
      expect(topo.devicesNetwork.isInternal()).toBe(false);
      expect(topo.ums.getNetworkNames()).toEqual([topo.umsNetwork.getName()]);
      expect(alb.getNetworkNames().sort()).toEqual([topo.devicesNetwork.getName(), topo.umsNetwork.getName()].sort());
      expect(topo.ums.getForwarding()).toMatchObject({ enabled: true, header: header, encodingType: "URL_AWS" });
      expect(alb.getMtlsMode(8443)).toBe(topology === "alb-verify" ? "verify" : "passthrough");
      expect(topo.deviceEndpoints.enrollmentUrl).toBe(alb.getInternalListenerUrl(topology === "alb-verify" ? 443 : 8443));
    });

    test("two devices onboard through the ALB, come online, and a command round trip works", async () => {
      await withFleets(async (track) => {
        const fleet = track(await topo.fleet({ count: 2, enrollmentKeys: KEYS, ...FAST }).start());
        const online = await fleet.waitForOnline(2, 40_000);
        const listed = await imi.thinclients();
        for (const unitId of online) expect(listed).toContainEqual(expect.objectContaining({ unitID: unitId, online: true }));
        const target = listed.find((t) => t.unitID === online[0])!;
        const [exec] = await imi.command("settings2tc", [target.id]);
        await expect(imi.waitForCommand(exec.exec_id, 15_000)).resolves.toMatchObject({ state: "SUCCESS" });
      });
    });

    test("a device cannot reach the UMS directly: not by its address on the internal network, not by name", async () => {
      await withFleets(async (track) => {
        const probe = { identities: ["good"] as const, maxAttempts: 1, handshakeTimeoutMs: 2500, exitWhenSettled: true, bootMs: 0 };
        const umsIp = topo.ums.getIpAddress(topo.umsNetwork.getName());
        const [byAddress, byName, throughAlb] = await Promise.all([
          topo.fleet({ ...probe, clusterUrl: `https://${umsIp}:8443`, enrollmentUrl: `https://${umsIp}:8443` }).start().then(track),
          topo.fleet({ ...probe, clusterUrl: topo.ums.getInternalUrl(), enrollmentUrl: topo.ums.getInternalUrl() }).start().then(track),
          // The same device, the same image, through the front: it gets in (the probe can succeed).
          topo.fleet({ ...probe }).start().then(track),
        ]);
        const [a, n, ok] = await Promise.all([byAddress.waitForSettled(20_000), byName.waitForSettled(20_000), throughAlb.waitForSettled(20_000)]);
        expect(ok.states).toEqual({ online: 1 });
        expect(a.states).toEqual({ failed: 1 });
        expect(Object.keys(a.lastRefusals).join()).toMatch(/connect: (network|tls)/);
        expect(Object.keys(a.lastRefusals).join()).toMatch(/timed? ?out|ETIMEDOUT|EHOSTUNREACH/i);
        expect(n.states).toEqual({ failed: 1 });
        // Docker's DNS does not answer the UMS's name on the devices' network (lookup fails or times out).
        expect(Object.keys(n.lastRefusals).join()).toMatch(/connect: network: .*(ENOTFOUND|EAI_AGAIN|timed out)/);
      });
    });

    if (topology === "alb-verify") {
      test("an untrusted device is refused in the ALB's TLS handshake and the connection log says why", async () => {
        await withFleets(async (track) => {
          const fleet = track(await topo.fleet({ identities: ["other-ca"], maxAttempts: 1, exitWhenSettled: true, ...FAST }).start());
          const settled = await fleet.waitForSettled(20_000);
          expect(settled.states).toEqual({ failed: 1 });
          expect(Object.keys(settled.lastRefusals).join()).toMatch(/connect: TLS/);
        });
        // Connection logs are written every 200 ms (a live tail beside the .log.gz objects) under AWSLogs/<account>/elasticloadbalancing/...
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-alb-logs-"));
        try {
          let lines = "";
          for (let i = 0; i < 25 && !/Failed:ClientCertUntrusted/.test(lines); i++) {
            await new Promise((r) => setTimeout(r, 200));
            const root = await alb.copyLogsTo(dir);
            lines = `${readLogLines(root, "connection").join("\n")}\n`;
          }
          expect(lines).toMatch(/ Failed:ClientCertUntrusted /);
          expect(findFiles(dir, /^conn_log_/)[0]).toMatch(/AWSLogs\/123456789012\/elasticloadbalancing\/eu-central-1\/\d{4}\/\d{2}\/\d{2}\//);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
});
