import { getContainerRuntimeClient, ContainerRuntimeClient } from "testcontainers";
import { UserError } from "../../../core/errors";

/**
 * The Docker engine the container runtime talks to, found the way testcontainers finds it
 * (DOCKER_HOST, ~/.testcontainers.properties, /var/run/docker.sock, ...). Not finding one is a
 * UserError that says what to start.
 */

export const NO_ENGINE_FIX = [
  "start a Docker engine (e.g. 'sudo systemctl start docker'), or point DOCKER_HOST at its socket (DOCKER_HOST=unix:///path/docker.sock)",
  "on a Linux machine without one, 'bash scripts/containers/ci.sh' installs Debian's docker.io, starts a private engine and runs the container tests",
].join("\n  or: ");

function where(): string {
  return process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : "the default socket /var/run/docker.sock (DOCKER_HOST is not set)";
}

/** The runtime client; a UserError naming what to start when no engine answers. */
export async function connectEngine(): Promise<ContainerRuntimeClient> {
  try {
    return await getContainerRuntimeClient();
  } catch (e) {
    throw new UserError(`no Docker engine answers at ${where()} (${(e as Error).message})\n  fix: ${NO_ENGINE_FIX}`);
  }
}

export type EngineProbe = { readonly ok: true; readonly client: ContainerRuntimeClient; readonly version: string } | { readonly ok: false; readonly reason: string };

/** Whether an engine answers; never throws (tests use the reason to name why they skip). */
export async function probeEngine(): Promise<EngineProbe> {
  try {
    const client = await connectEngine();
    return { ok: true, client, version: String(client.info.containerRuntime.serverVersion) };
  } catch {
    return { ok: false, reason: `no Docker engine at ${where()}` };
  }
}
