#!/usr/bin/env node
/**
 * Writes the root filesystem of one container image into a directory, for `docker import` where no
 * registry is reachable (scripts/containers/build-images.sh), and the app tree the Dockerfile copies:
 *
 *   node dist/scripts/containers/stage-rootfs.js node  --out DIR   Node's binary + its libraries + /app
 *   node dist/scripts/containers/stage-rootfs.js nginx --out DIR   nginx + its libraries, modules, mime.types
 *   node dist/scripts/containers/stage-rootfs.js app   --out DIR   /app only (dist/ + production node_modules)
 *   node dist/scripts/containers/stage-rootfs.js digest node|nginx   the digest of an image's inputs (its label)
 *
 * /app holds dist/, package.json and the production dependencies of package-lock.json (entries
 * without `dev`); of @cdktf/provider-aws only the resource modules dist/ requires (it is 390 MB whole).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { imageInputsDigest, NGINX_BINARY } from "../../simulator/runtime/containers/image-inputs";

const REPO = path.resolve(__dirname, "../../..");
const PROVIDER = "@cdktf/provider-aws";

/** Shared-library paths `ldd` lists for a binary, and its dynamic loader. */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  const libs = new Set<string>();
  for (const line of out.split("\n")) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]);
  }
  return [...libs];
}

/** Copies `file` (following symlinks) to the same absolute path under `root`. */
function copyAt(root: string, file: string, as = file): void {
  const target = path.join(root, as);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(fs.realpathSync(file), target);
  fs.chmodSync(target, fs.statSync(fs.realpathSync(file)).mode & 0o7777);
}

function copyBinaryWithLibraries(root: string, binary: string, as: string): void {
  copyAt(root, binary, as);
  for (const lib of sharedLibraries(fs.realpathSync(binary))) copyAt(root, lib);
}

/** The basics a process expects: /tmp, users for nginx's workers, name resolution through /etc/hosts first. */
function baseFiles(root: string): void {
  for (const d of ["tmp", "etc", "run", "var/tmp"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.chmodSync(path.join(root, "tmp"), 0o1777);
  fs.chmodSync(path.join(root, "var/tmp"), 0o1777);
  fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  fs.writeFileSync(path.join(root, "etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
}

/** package-lock.json entries of production packages (path → entry), e.g. `node_modules/ws`. */
export function productionPackages(repo = REPO): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(repo, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([p, e]) => p.startsWith("node_modules/") && !e.dev && !e.devOptional)
    .map(([p]) => p)
    .filter((p) => fs.existsSync(path.join(repo, p)));
}

/** `@cdktf/provider-aws/lib/<name>` modules any file of dist/ requires. */
function providerModules(distDir: string): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".js")) for (const m of fs.readFileSync(p, "utf8").matchAll(/require\("@cdktf\/provider-aws\/lib\/([a-z0-9-]+)"\)/g)) found.add(m[1]);
    }
  };
  walk(distDir);
  return [...found].sort();
}

/** Copies a package directory without its nested node_modules (nested packages are entries of their own). */
function copyPackage(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, dereference: true, filter: (src) => src === from || !path.relative(from, src).split(path.sep).includes("node_modules") });
}

export function stageApp(appRoot: string, repo = REPO): { packages: number; providerModules: string[] } {
  const dist = path.join(repo, "dist");
  if (!fs.existsSync(path.join(dist, "cli/index.js"))) throw new Error(`${dist} is missing or incomplete: run 'npm run build' first`);
  fs.mkdirSync(appRoot, { recursive: true });
  fs.cpSync(dist, path.join(appRoot, "dist"), { recursive: true, filter: (src) => !src.endsWith(".map") });
  fs.copyFileSync(path.join(repo, "package.json"), path.join(appRoot, "package.json"));
  const packages = productionPackages(repo);
  for (const p of packages) {
    if (p === `node_modules/${PROVIDER}`) continue;
    copyPackage(path.join(repo, p), path.join(appRoot, p));
  }
  const modules = providerModules(dist);
  const provider = path.join(repo, "node_modules", PROVIDER);
  if (modules.length > 0) {
    fs.mkdirSync(path.join(appRoot, "node_modules", PROVIDER, "lib"), { recursive: true });
    fs.copyFileSync(path.join(provider, "package.json"), path.join(appRoot, "node_modules", PROVIDER, "package.json"));
    for (const m of modules) fs.cpSync(path.join(provider, "lib", m), path.join(appRoot, "node_modules", PROVIDER, "lib", m), { recursive: true });
  }
  return { packages: packages.length, providerModules: modules };
}

export function stageNode(root: string): void {
  baseFiles(root);
  copyBinaryWithLibraries(root, process.execPath, "/usr/local/bin/node");
  stageApp(path.join(root, "app"));
}

export function stageNginx(root: string, nginxBinary = NGINX_BINARY): void {
  if (!fs.existsSync(nginxBinary)) throw new Error(`${nginxBinary} is missing: install Debian's nginx-light (bash scripts/ensure-system-tools.sh)`);
  baseFiles(root);
  copyBinaryWithLibraries(root, nginxBinary, "/usr/sbin/nginx");
  for (const dir of ["/usr/lib/nginx/modules"]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) copyBinaryWithLibraries(root, path.join(dir, f), path.join(dir, f));
  }
  if (fs.existsSync("/etc/nginx/mime.types")) copyAt(root, "/etc/nginx/mime.types");
  for (const d of ["var/lib/nginx", "var/log/nginx", "lab"]) fs.mkdirSync(path.join(root, d), { recursive: true });
}

if (require.main === module) {
  const [kind, flag, out] = process.argv.slice(2);
  if (kind === "digest" && (flag === "node" || flag === "nginx")) {
    process.stdout.write(`${imageInputsDigest(flag)}\n`);
    process.exit(0);
  }
  if (!["node", "nginx", "app"].includes(kind ?? "") || flag !== "--out" || !out) {
    process.stderr.write("usage: stage-rootfs.js node|nginx|app --out DIR, or stage-rootfs.js digest node|nginx\n");
    process.exit(2);
  }
  try {
    if (kind === "node") stageNode(out);
    else if (kind === "nginx") stageNginx(out);
    else stageApp(out);
  } catch (e) {
    process.stderr.write(`stage-rootfs: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
