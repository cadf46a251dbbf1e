import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import { DeviceFleet, StartedDeviceFleet } from "../../simulator/device/device-fleet";
import { fleetOptions } from "../../simulator/scenarios/flows/one-device";
import type { Lab } from "../../simulator/runtime/lab";
import { isUserError } from "../../core/errors";
import { CLOSE } from "../../simulator/protocol/messages";
import { testLab } from "../helpers/lab";

/**
 * A topology restarts one component at a time on the same address and port (what the soak and the
 * reconnect storms rely on): the devices lose their sessions, reconnect with backoff, and are back.
 */

let lab: Lab;
let topology: StartedTopology | undefined;
let fleet: StartedDeviceFleet | undefined;

beforeAll(async () => {
  lab = await testLab();
});

afterAll(async () => {
  await fleet?.stop();
  await topology?.stop();
});

test("alb-verify restarts the UMS and the ALB emulator, or kills one and starts it after a wait; the devices come back through the same address", async () => {
  topology = await startTopology("alb-verify", new LoopbackRuntime(), lab, { instance: "restart-test" });
  expect([...topology.restartable].sort()).toEqual(["alb", "ums"]);
  const imi = await topology.runtime.adminClient(topology.admin, topology.admin.side);
  const offline: number[] = [];
  fleet = await new DeviceFleet(
    fleetOptions(lab, topology, { count: 3, enrollmentKeys: await imi.mintEnrollmentKeys(3), unitBase: 0xd100, backoff: { initialMs: 100, maxMs: 500 }, onEvent: (e) => e.type === "offline" && offline.push(e.closeCode) }),
  ).start();
  await fleet.waitForOnline(3, 20_000);

  for (const component of ["ums", "alb"]) {
    const pid = topology.components[component].pid;
    const dropped = offline.length;
    await topology.restart(component);
    expect(topology.components[component].pid).not.toBe(pid);
    expect(topology.components[component].running).toBe(true);
    await fleet.waitFor(() => offline.length >= dropped + 3, 10_000, `every device dropped by the ${component} restart`);
    await fleet.waitForOnline(3, 20_000);
    expect(fleet.devices.every((d) => d.stats.sessions >= 2)).toBe(true);
  }
  // Killed (SIGKILL): no goodbye reaches the devices, and the UMS starts again only after whileDown.
  const dropped = offline.length;
  let downWhileWaiting: boolean | undefined;
  await topology.restart("ums", {
    abrupt: true,
    whileDown: async () => {
      await fleet!.waitFor(() => offline.length >= dropped + 3, 10_000, "every device dropped by the kill");
      downWhileWaiting = !topology!.components.ums.running;
    },
  });
  expect(downWhileWaiting).toBe(true);
  expect(offline.slice(dropped)).not.toContain(CLOSE.goingAway);
  await fleet.waitForOnline(3, 20_000);
  // The restarted UMS answers its admin API on the same address.
  await imi.login();
  expect((await imi.thinclients()).filter((t) => t.online)).toHaveLength(3);
});

test("a component the topology did not start as a process is refused, naming the ones it can restart", async () => {
  let error: unknown;
  try {
    await topology!.restart("nginx");
  } catch (e) {
    error = e;
  }
  expect(isUserError(error)).toBe(true);
  expect((error as Error).message).toBe("topology 'alb-verify' cannot restart 'nginx'\n  fix: restart one of ums, alb");
});
