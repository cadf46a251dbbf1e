import { spawn } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { ContainerRuntimeClient, ImageName } from "testcontainers";
import { UserError } from "../../../core/errors";
import { projectRoot } from "../../../core/project-root";
import { imageInputsDigest, INPUTS_LABEL } from "./image-inputs";

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

/** What ensureImages did for one image. */
export type ImageState = "reused" | "built" | "foreign";

/**
 * Makes sure our images are on the engine and current: an image labelled with the digest of its
 * inputs now is reused; a missing or outdated one is built by scripts/containers/build-images.sh
 * (no registry needed), which prints what it built and how long it took. An image without our
 * label (built from the Dockerfile, or loaded) is used as it is. A failed build is a UserError
 * with the build's last lines.
 */
export async function ensureImages(client: ContainerRuntimeClient, note: (line: string) => void, tag = imageTag()): Promise<Record<ImageKind, ImageState>> {
  const kinds: ImageKind[] = ["node", "nginx"];
  const docker = client.container.dockerode;
  const state = {} as Record<ImageKind, ImageState>;
  const stale: ImageKind[] = [];
  for (const kind of kinds) {
    const labels = await docker
      .getImage(imageName(kind, tag))
      .inspect()
      .then((i) => (i.Config?.Labels ?? {}) as Record<string, string>)
      .catch(() => undefined);
    if (labels && !labels[INPUTS_LABEL]) state[kind] = "foreign";
    else if (labels && labels[INPUTS_LABEL] === imageInputsDigest(kind)) state[kind] = "reused";
    else stale.push(kind);
  }
  for (const kind of kinds.filter((k) => state[k])) {
    note(`images: ${imageName(kind, tag)} ${state[kind] === "reused" ? "reused (inputs unchanged)" : "used as it is (not built by build-images.sh, e.g. from the Dockerfile)"}`);
  }
  if (stale.length === 0) return state;
  const t0 = Date.now();
  const output = await runBuildScript(tag);
  for (const line of output.lines.filter((l) => /^\s+ums-edge\/\S+\s+built /.test(l))) note(`images: ${line.trim()}`);
  if (output.code !== 0) {
    throw new UserError(`building the images failed (scripts/containers/build-images.sh exited with ${output.code}):\n${output.lines.slice(-12).join("\n")}\n  fix: ${buildImageFix(imageName(stale[0], tag))}`);
  }
  for (const kind of stale) state[kind] = "built";
  note(`images: ${stale.map((k) => imageName(k, tag)).join(", ")} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return state;
}

function runBuildScript(tag: string): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    const child = spawn("bash", [path.join(projectRoot(), "scripts/containers/build-images.sh")], {
      cwd: projectRoot(),
      env: { ...process.env, UMS_EDGE_IMAGE_TAG: tag },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", (l) => lines.push(l));
    child.on("error", (e) => resolve({ code: 127, lines: [...lines, e.message] }));
    child.on("exit", (code) => resolve({ code: code ?? 1, lines }));
  });
}
