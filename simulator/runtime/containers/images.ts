import { ContainerRuntimeClient, ImageName } from "testcontainers";
import { UserError } from "../../../core/errors";

/**
 * The images of the container runtime. Built locally by scripts/containers/build-images.sh
 * (`docker import` of a root filesystem, no registry needed) or from scripts/containers/Dockerfile
 * (`--target node` / `--target nginx`) where a registry is reachable; both give the same names.
 */

export type ImageKind = "node" | "nginx";

/** The tag of our images: env UMS_EDGE_IMAGE_TAG. @default "dev" */
export function imageTag(): string {
  return process.env.UMS_EDGE_IMAGE_TAG || "dev";
}

/** `ums-edge/node:dev`: Node + dist/ + production node_modules in /app (mock UMS, ALB emulator, device fleet). */
export function imageName(kind: ImageKind, tag = imageTag()): string {
  return `ums-edge/${kind}:${tag}`;
}

export function buildImageFix(image: string): string {
  const kind = /^ums-edge\/(node|nginx):/.exec(image)?.[1];
  if (!kind) return `pull it where a registry is reachable ('docker pull ${image}'), or load a saved copy ('docker load -i FILE')`;
  return [
    `build it: 'npm run build && bash scripts/containers/build-images.sh' (no registry needed)`,
    `where a registry is reachable: 'docker build -f scripts/containers/Dockerfile --target ${kind} -t ${image} .'`,
  ].join("\n  or: ");
}

/**
 * Throws a UserError naming how to build the image when it is not on the engine. Images of ours are
 * never pulled (they are on no registry); others are pulled only when `allowPull` says so.
 */
export async function requireImage(client: ContainerRuntimeClient, image: string, allowPull = false): Promise<void> {
  const name = ImageName.fromString(image);
  if (await client.image.exists(name)) return;
  if (allowPull && !image.startsWith("ums-edge/")) {
    try {
      await client.image.pull(name, { force: false, platform: undefined });
      return;
    } catch (e) {
      throw new UserError(`image '${image}' is not on the Docker engine and pulling it failed (${(e as Error).message.split("\n")[0]})\n  fix: pull it where a registry is reachable ('docker pull ${image}'), or load it ('docker load')`);
    }
  }
  throw new UserError(`image '${image}' is not on the Docker engine\n  fix: ${buildImageFix(image)}`);
}
