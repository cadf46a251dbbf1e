import * as https from "node:https";
import * as fs from "node:fs";
import type { LabPki } from "../../simulator/pki";
import { ImiClient } from "../../simulator/ums/imi-client";
import { ContainerTopology, StartedContainerTopology, StartedNginxProxyContainer } from "../../simulator/runtime/containers";
import { testLabPki } from "../helpers/lab-pki";
import { describeWithEngine } from "./support/availability";

/**
 * `direct` and `reverse-proxy` with every component in a container. In `direct` the same probe
 * that fails in the ALB topologies (a device going to the UMS's own address) gets in: the
 * isolation those tests see comes from the networks, not from the probe.
 */

const FAST = { bootMs: 50, backoff: { initialMs: 100, maxMs: 500 }, handshakeTimeoutMs: 5000 } as const;
const PROBE = { identities: ["good"] as const, maxAttempts: 1, handshakeTimeoutMs: 2500, exitWhenSettled: true, bootMs: 0 };

function get(url: string, ca: string, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, servername, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

describeWithEngine("direct and reverse-proxy topologies in containers", () => {
  let pki: LabPki;

  beforeAll(async () => {
    pki = await testLabPki();
  });

  describe("direct", () => {
    let topo: StartedContainerTopology;

    beforeAll(async () => {
      topo = await new ContainerTopology({ topology: "direct", pki: pki.dir, enrollmentKeys: ["ek-direct-1"], ums: { heartbeatMs: 500 } }).start();
    });

    afterAll(async () => {
      await topo?.stop();
    });

    test("devices and UMS share one network; a device onboards, and the probe by the UMS's address gets in", async () => {
      expect(topo.umsNetwork.getName()).toBe(topo.devicesNetwork.getName());
      expect(topo.devicesNetwork.isInternal()).toBe(false);
      expect(topo.front).toBeUndefined();
      const umsIp = topo.ums.getIpAddress(topo.umsNetwork.getName());
      const onboarding = await topo.fleet({ count: 1, enrollmentKeys: ["ek-direct-1"], ...FAST }).start();
      const probe = await topo.fleet({ ...PROBE, clusterUrl: `https://${umsIp}:8443`, enrollmentUrl: `https://${umsIp}:8443` }).start();
      try {
        await onboarding.waitForOnline(1, 30_000);
        expect((await probe.waitForSettled(20_000)).states).toEqual({ online: 1 });
        // The published port: how an admin on this machine reaches the UMS.
        const imi = new ImiClient({ baseUrl: topo.ums.getUrl(), caFile: pki.web.rootCert, serverName: pki.fqdn, credentials: topo.ums.getAdminCredentials() });
        const listed = await imi.thinclients();
        expect(listed).toContainEqual(expect.objectContaining({ unitID: onboarding.getOnlineUnitIds()[0], online: true }));
        // The probe got in and exited once settled: the UMS knows it (offline by now).
        expect(listed.map((t) => t.unitID)).toContain("lab-device-good");
      } finally {
        await Promise.all([onboarding.stop(), probe.stop()]);
      }
    });
  });

  describe("reverse-proxy", () => {
    let topo: StartedContainerTopology;
    let proxy: StartedNginxProxyContainer;

    beforeAll(async () => {
      topo = await new ContainerTopology({ topology: "reverse-proxy", pki: pki.dir, enrollmentKeys: ["ek-proxy-1", "ek-proxy-2"], ums: { heartbeatMs: 500 } }).start();
      proxy = topo.front as StartedNginxProxyContainer;
    });

    afterAll(async () => {
      await topo?.stop();
    });

    test("two devices onboard through nginx and are identified by the header nginx sets", async () => {
      expect(topo.umsNetwork.isInternal()).toBe(true);
      expect(topo.ums.getForwarding()).toMatchObject({ enabled: true, header: "X-Amzn-Mtls-Clientcert-Leaf" });
      const fleet = await topo.fleet({ count: 2, enrollmentKeys: ["ek-proxy-1", "ek-proxy-2"], ...FAST }).start();
      try {
        const online = await fleet.waitForOnline(2, 30_000);
        const imi = new ImiClient({ baseUrl: topo.ums.getUrl(), caFile: pki.web.rootCert, serverName: pki.fqdn, credentials: topo.ums.getAdminCredentials() });
        const listed = await imi.thinclients();
        for (const unitId of online) expect(listed).toContainEqual(expect.objectContaining({ unitID: unitId, online: true }));
      } finally {
        await fleet.stop();
      }
    });

    test("nginx keeps the admin API off the device side; the UMS itself cannot be reached from there", async () => {
      const ca = fs.readFileSync(pki.web.rootCert, "utf8");
      const blocked = await get(`${proxy.getUrl()}/umsapi/v3/serverstatus`, ca, pki.fqdn);
      expect([403, 404]).toContain(blocked.status);
      const umsIp = topo.ums.getIpAddress(topo.umsNetwork.getName());
      const probe = await topo.fleet({ ...PROBE, clusterUrl: `https://${umsIp}:8443`, enrollmentUrl: `https://${umsIp}:8443` }).start();
      try {
        const settled = await probe.waitForSettled(20_000);
        expect(settled.states).toEqual({ failed: 1 });
        expect(Object.keys(settled.lastRefusals).join()).toMatch(/connect: network/);
      } finally {
        await probe.stop();
      }
    });
  });
});
