import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../../core/project-root";
import type { ImageKind } from "./images";

/**
 * A digest of everything an image built by scripts/containers/build-images.sh is made from, stored
 * as the image's `ums-edge.inputs` label: an image whose label matches the inputs here is reused,
 * one that differs is rebuilt. Files are hashed by content; the Node and nginx binaries (large, and
 * installed by a package manager) by path, size and modification time.
 */

export const INPUTS_LABEL = "ums-edge.inputs";

export const NGINX_BINARY = "/usr/sbin/nginx";

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter(keep)
    .sort();
}

function binaryStamp(file: string): string {
  const real = fs.realpathSync(file);
  const s = fs.statSync(real);
  return `${real} ${s.size} ${s.mtimeMs}`;
}

/** The files and binaries an image is made from, as `name → stamp` lines. */
function inputsOf(kind: ImageKind, root: string): Array<[string, string | Buffer]> {
  const script = ["scripts/containers/build-images.sh", "dist/scripts/containers/stage-rootfs.js"].map((f): [string, Buffer] => [f, fs.existsSync(path.join(root, f)) ? fs.readFileSync(path.join(root, f)) : Buffer.alloc(0)]);
  if (kind === "nginx") {
    const modules = filesUnder("/usr/lib/nginx/modules", () => true);
    return [...script, ["nginx", fs.existsSync(NGINX_BINARY) ? binaryStamp(NGINX_BINARY) : "missing"], ...modules.map((m): [string, string] => [m, binaryStamp(m)])];
  }
  const dist = filesUnder(path.join(root, "dist"), (f) => !f.endsWith(".map"));
  return [
    ...script,
    ["node", `${process.version} ${binaryStamp(process.execPath)}`],
    ...["package.json", "package-lock.json"].map((f): [string, Buffer] => [f, fs.readFileSync(path.join(root, f))]),
    ...dist.map((f): [string, Buffer] => [path.relative(root, f), fs.readFileSync(f)]),
  ];
}

/** The digest of an image's inputs (hex, 16 characters). */
export function imageInputsDigest(kind: ImageKind, root = projectRoot()): string {
  const hash = createHash("sha256");
  for (const [name, content] of inputsOf(kind, root)) hash.update(`${name}\0`).update(content).update("\0");
  return hash.digest("hex").slice(0, 16);
}
