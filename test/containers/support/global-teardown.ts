import { probeEngine, UMS_EDGE_LABEL } from "../../../simulator/runtime/containers";

/**
 * Tests remove their containers and networks themselves (Ryuk, testcontainers' reaper, cannot be
 * had without a registry). Anything labelled ums-edge still there is removed here and fails the run.
 */
export default async function globalTeardown(): Promise<void> {
  const engine = await probeEngine();
  if (!engine.ok) return;
  const docker = engine.client.container.dockerode;
  const filters = JSON.stringify({ label: [`${UMS_EDGE_LABEL}=true`] });
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  for (const n of networks) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  if (containers.length || networks.length) {
    throw new Error(`tests left ${containers.length} container(s) (${containers.map((c) => c.Names.join(",")).join(" ")}) and ${networks.length} network(s) (${networks.map((n) => n.Name).join(" ")}) behind; removed now`);
  }
}
