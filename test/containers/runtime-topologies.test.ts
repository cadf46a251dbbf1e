import * as fs from "node:fs";
import * as path from "node:path";
import type { Lab } from "../../simulator/runtime/lab";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { ImiClient } from "../../simulator/ums/imi-client";
import { connectEngine, ContainerRuntime, DeviceFleetContainer, StartedDeviceFleetContainer } from "../../simulator/runtime/containers";
import { connectionLog } from "../../simulator/scenarios/evidence-logs";
import { testLab } from "../helpers/lab";
import { describeWithEngine } from "./support/availability";

/**
 * The topology records started on the container runtime through the same starters the process
 * runtimes use: which Docker networks each component ends up on, devices in a container on the
 * devices' network getting in through the front, and the UMS out of their reach. The whole
 * outcome table on containers is `ums-edge simulate --runtime containers` (scripts/containers/ci.sh).
 */

const FAST = { bootMs: 50, backoff: { initialMs: 100, maxMs: 500 }, handshakeTimeoutMs: 5000 } as const;

/** The Docker networks of the containers of a run, by component label. */
async function networksByComponent(runtime: ContainerRuntime): Promise<Record<string, string[]>> {
  const docker = (await connectEngine()).container.dockerode;
  const list = await docker.listContainers({ filters: JSON.stringify({ label: [`ums-edge.run=${runtime.runId}`] }) });
  return Object.fromEntries(list.map((c) => [c.Labels["ums-edge.component"], Object.keys(c.NetworkSettings.Networks).sort()]));
}

describeWithEngine("the container runtime starts topologies from their records", () => {
  let lab: Lab;
  let runtime: ContainerRuntime;
  let internet: string;
  let private_: string;

  beforeAll(async () => {
    lab = await testLab("containers");
    runtime = await ContainerRuntime.start({ s3: "none", ensureImages: false });
    [internet] = runtime.networkNames("internet");
    [private_] = runtime.networkNames("private");
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  /** Starts a topology, runs `fn`, stops what it started (fleets included). */
  async function withTopology(name: TopologyName, fn: (t: StartedTopology, track: (f: StartedDeviceFleetContainer) => StartedDeviceFleetContainer) => Promise<void>): Promise<void> {
    const topology = await startTopology(name, runtime, lab, { umsHeartbeatMs: 500 });
    const fleets: StartedDeviceFleetContainer[] = [];
    try {
      await fn(topology, (f) => (fleets.push(f), f));
    } finally {
      await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
      await topology.stop();
    }
  }

  function fleet(topology: StartedTopology, options: Partial<ConstructorParameters<typeof DeviceFleetContainer>[0]>): DeviceFleetContainer {
    return new DeviceFleetContainer({ pki: lab.pki.dir, network: internet, clusterUrl: topology.devices.clusterUrl, enrollmentUrl: topology.devices.enrollmentUrl, ...FAST, ...options });
  }

  test("icg: the ICG joins both networks, the UMS only the internal one and connects out; a device container onboards through the ICG; the UMS is out of the devices' reach", async () => {
    await withTopology("icg", async (topology, track) => {
      expect(await networksByComponent(runtime)).toEqual({ icg: [internet, private_].sort(), ums: [private_] });
      const imi = await runtime.adminClient(topology.admin);
      const keys = await imi.mintEnrollmentKeys(1);
      const devices = track(await fleet(topology, { count: 1, enrollmentKeys: keys }).start());
      const [unitId] = await devices.waitForOnline(1, 40_000);
      expect(await imi.thinclients()).toContainEqual(expect.objectContaining({ unitID: unitId, online: true }));
      // From the devices' network: the ICG answers, the UMS's own listener does not.
      const icg = new URL(topology.devices.clusterUrl);
      expect(await runtime.probe("internet", icg.hostname, Number(icg.port))).toBe("connected");
      expect(await runtime.probe("internet", topology.ums.host, topology.ums.port)).not.toBe("connected");
    });
  });

  test("alb-verify: ALB on both networks, UMS behind it with the stack's header; an untrusted device container is refused in the handshake and the connection log on this machine says why", async () => {
    await withTopology("alb-verify", async (topology, track) => {
      expect(await networksByComponent(runtime)).toEqual({ alb: [internet, private_].sort(), ums: [private_] });
      expect((topology.components.ums.ready as { forwarding: unknown }).forwarding).toMatchObject({ enabled: true, header: "X-Amzn-Mtls-Clientcert-Leaf", encodingType: "URL_AWS" });
      expect(topology.devices.enrollmentUrl).toMatch(/^https:\/\/[\d.]+:443$/);
      expect(topology.devices.clusterUrl).toMatch(/^https:\/\/[\d.]+:8443$/);
      const untrusted = track(await fleet(topology, { identities: ["other-ca"], maxAttempts: 1, exitWhenSettled: true }).start());
      const settled = await untrusted.waitForSettled(20_000);
      expect(settled.states).toEqual({ failed: 1 });
      expect(Object.keys(settled.lastRefusals).join()).toMatch(/connect: TLS/);
      let statuses: string[] = [];
      for (let i = 0; i < 25 && !statuses.includes("Failed:ClientCertUntrusted"); i++) {
        await new Promise((r) => setTimeout(r, 200));
        statuses = connectionLog(topology).map((r) => r.verifyStatus);
      }
      expect(statuses).toContain("Failed:ClientCertUntrusted");
      expect(fs.existsSync(path.join(topology.albLogsDir!, "alb-emulator.log"))).toBe(true);
    });
  });

  test("reverse-proxy: nginx on both networks writes its access log on this machine; the UMS's address gets no connection from the devices' network", async () => {
    await withTopology("reverse-proxy", async (topology) => {
      expect(await networksByComponent(runtime)).toEqual({ nginx: [internet, private_].sort(), ums: [private_] });
      const imi = new ImiClient({ baseUrl: topology.devices.clusterUrl, caFile: topology.devices.trustedCaFile, serverName: topology.devices.serverName });
      const blocked = await imi.request("GET", "/umsapi/v3/serverstatus");
      expect([403, 404]).toContain(blocked.status);
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.readFileSync(topology.nginxLogs!.access, "utf8")).toMatch(/\/umsapi\/v3\/serverstatus/);
      expect(await runtime.probe("internet", topology.ums.host, topology.ums.port)).toMatch(/^(timeout|unreachable)$/);
    });
  });

  test("direct: the UMS is on the devices' network, so the same probe gets in (the isolation above comes from the networks, not from the probe)", async () => {
    await withTopology("direct", async (topology) => {
      expect(await networksByComponent(runtime)).toEqual({ ums: [internet, private_].sort() });
      expect(await runtime.probe("internet", topology.ums.host, topology.ums.port)).toBe("connected");
    });
  });
});
