import * as fs from "node:fs";
import * as path from "node:path";
import type { LabPki } from "../../simulator/pki";
import type { Lab } from "../../simulator/runtime/lab";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import { connectEngine, ContainerRuntime, DeviceFleetContainer, ensureImages, imageName, MockUmsContainer, startLocalStack } from "../../simulator/runtime/containers";
import { testLabPki } from "../helpers/lab-pki";
import { testLab } from "../helpers/lab";
import { describeWithEngine } from "./support/availability";

/** What a user gets wrong, and the message that says what to start, install or build. */

let pki: LabPki;

beforeAll(async () => {
  pki = await testLabPki();
});

describe("options refused before any container starts", () => {
  test("a PKI directory that does not exist", () => {
    expect(() => new MockUmsContainer({ pki: "/nonexistent/pki" })).toThrow(/'pki': '\/nonexistent\/pki' does not exist\n  fix: create one with 'ums-edge pki init --dir DIR'/);
  });

  test("fewer enrollment keys than onboarding devices", () => {
    expect(() => new DeviceFleetContainer({ pki: pki.dir, clusterUrl: "https://alb:8443", count: 2, enrollmentKeys: ["k1"] })).toThrow(/'enrollmentKeys': 1 key\(s\) for 2 onboarding device\(s\)\n  fix: give one one-time key per device/);
  });
});

describeWithEngine("with an engine: what is missing is named", () => {
  test("an image that is not on the engine: how to build it", async () => {
    await expect(new MockUmsContainer({ pki: pki.dir, image: "ums-edge/node:no-such-tag" }).start()).rejects.toMatchObject({
      name: "UserError",
      message: expect.stringMatching(/^image 'ums-edge\/node:no-such-tag' is not on the Docker engine\n  fix: build it: 'npm run build && bash scripts\/containers\/build-images.sh'.*\n  or: .*docker build -f scripts\/containers\/Dockerfile --target node -t ums-edge\/node:no-such-tag \./s),
    });
  });

  test("a network that does not exist", async () => {
    await expect(new MockUmsContainer({ pki: pki.dir, network: "ums-edge-no-such-network" }).start()).rejects.toThrow(/Docker network 'ums-edge-no-such-network' does not exist\n  fix: start the network first/);
  });

  test("a component that exits on bad input: its own message, as a user error, and no container left", async () => {
    const started = new MockUmsContainer({ pki: pki.dir, extraArgs: ["--heartbeat-ms", "5"] }).start();
    await expect(started).rejects.toMatchObject({
      name: "UserError",
      message: expect.stringMatching(/the ums container \(ums-edge\/node:\w+, ums-edge-ums-\w+\) exited with code 2 before it was ready\n--- its last output ---\n.*--heartbeat-ms: '5' is not an integer from 10 to 3600000/s),
    });
  });

  test("LocalStack that never gets ready: how long it waited and what to do", async () => {
    const never = startLocalStack({ image: imageName("node"), pull: false, startupTimeoutMs: 1500, command: ["-e", "setInterval(() => {}, 1000)"] });
    await expect(never).rejects.toMatchObject({ name: "UserError", message: expect.stringMatching(/^LocalStack \(ums-edge\/node:\w+\) was not ready within 2 s .*\n  fix: give it more time \('startupTimeoutMs'\)/s) });
  });

  test("LocalStack that wants an auth token: which version needs none", async () => {
    const refused = startLocalStack({ image: imageName("node"), pull: false, command: ["-e", "console.log('ERROR: License activation failed: LOCALSTACK_AUTH_TOKEN is not set'); process.exit(55)"] });
    await expect(refused).rejects.toMatchObject({ name: "UserError", message: expect.stringMatching(/refused to start without an auth token.*\n  fix: use localstack\/localstack:4\.14\.0 .*or set LOCALSTACK_AUTH_TOKEN/s) });
  });
});

describeWithEngine("a run that fails stops what it started and names the container", () => {
  let lab: Lab;
  let runtime: ContainerRuntime;

  beforeAll(async () => {
    lab = await testLab("containers-bad");
    runtime = await ContainerRuntime.start({ s3: "none", ensureImages: false });
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  test("a UMS that exits on its application.yml: the ICG started before it is stopped, the error names the UMS container and its last lines", async () => {
    const broken = path.join(lab.dir, "broken-application.yml");
    fs.writeFileSync(broken, "igel:\n  client-cert-forwarding:\n    enabled: maybe\n");
    const badLab: Lab = { ...lab, appConfigFile: () => broken };
    const failed = startTopology("icg", runtime, badLab);
    await expect(failed).rejects.toMatchObject({
      message: expect.stringMatching(/the ums container \(ums-edge\/node:\w+, ums-edge-\w+-ums-\d+\) exited with code \d+ before it was ready\n--- its last output ---\n[\s\S]*enabled/),
    });
    const docker = (await connectEngine()).container.dockerode;
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`ums-edge.run=${runtime.runId}`] }) });
    expect(left.map((c) => c.Names.join())).toEqual([]);
  });

  test("an image that fails to build: the build's last lines and how to build it", async () => {
    const saved = process.env.DOCKER;
    process.env.DOCKER = "false";
    try {
      await expect(ensureImages(await connectEngine(), () => undefined, "no-such-tag")).rejects.toMatchObject({
        name: "UserError",
        message: expect.stringMatching(/^building the images failed \(scripts\/containers\/build-images\.sh exited with 2\):\nbuild-images: no Docker engine answers to 'false version'[\s\S]*\n  fix: build it: /),
      });
    } finally {
      if (saved === undefined) delete process.env.DOCKER;
      else process.env.DOCKER = saved;
    }
  });
});
