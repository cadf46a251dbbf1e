import { MockUmsContainer, probeEngine, ContainerNetwork } from "../../simulator/runtime/containers";
import { testLabPki } from "../helpers/lab-pki";

/**
 * No Docker engine: runs everywhere (the engine is replaced by testcontainers' own failure, as it
 * throws when no runtime strategy works), so the message is checked even where Docker runs.
 */
jest.mock("testcontainers", () => ({
  ...jest.requireActual("testcontainers"),
  getContainerRuntimeClient: jest.fn(async () => {
    throw new Error("Could not find a working container runtime strategy");
  }),
}));

test("starting a component says which engine was tried and what to start", async () => {
  const pki = await testLabPki();
  await expect(new MockUmsContainer({ pki: pki.dir }).start()).rejects.toMatchObject({
    name: "UserError",
    exitCode: 2,
    message: expect.stringMatching(/^no Docker engine answers at (DOCKER_HOST=\S+|the default socket \/var\/run\/docker\.sock \(DOCKER_HOST is not set\)) \(Could not find a working container runtime strategy\)\n  fix: start a Docker engine .*\n  or: on a Linux machine without one, 'bash scripts\/containers\/ci\.sh'/s),
  });
  await expect(new ContainerNetwork({ internal: true }).start()).rejects.toThrow(/^no Docker engine answers/);
  await expect(probeEngine()).resolves.toEqual({ ok: false, reason: expect.stringMatching(/^no Docker engine at /) });
});
