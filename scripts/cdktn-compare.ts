/**
 * `npm run cdktn:compare`: proves the one-file seam (stacks/aws.ts) by synthesizing every stack a
 * second time with CDK Terrain (`cdktn`, the maintained fork of CDKTF) instead of cdktf, and reports
 * how the two outputs differ.
 *
 * cdktf stays the project's dependency. cdktn and its AWS provider are installed at run time into a
 * private directory (default `.tmp/cdktn`, ignored by git), never into package.json; a copy of dist/
 * gets a rewritten `stacks/aws.js` (the seam: constructs, cdktf core, provider classes) and nothing
 * else, so if any other file reached cdktf directly the cdktn run would fail or mix the two.
 *
 * Usage: node dist/scripts/cdktn-compare.js [--config FILE] [--dir DIR]
 * Exit 0 with "skipped: ..." when cdktn is not installed there and the npm registry is unreachable.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { projectRoot, EXAMPLE_CONFIG } from "../core/project-root";

/** Versions: cdktn 0.24 and @cdktn/provider-aws 25.x (AWS provider 6.6x) both accept constructs >=10.6.0 <10.8.0; cdktf 0.21 accepts ^10.4.2. */
export const CDKTN_PACKAGES = { cdktn: "0.24.0", "@cdktn/provider-aws": "25.7.0", constructs: "10.7.2" } as const;

const ROOT = projectRoot();
const SEAM = path.join("stacks", "aws.js");

interface Args {
  readonly config: string;
  readonly dir: string;
}

function parseArgs(argv: string[]): Args {
  let config = EXAMPLE_CONFIG;
  let dir = path.join(ROOT, ".tmp", "cdktn");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--config") config = path.resolve(argv[++i]);
    else if (argv[i] === "--dir") dir = path.resolve(argv[++i]);
    else throw new Error(`unknown argument '${argv[i]}' (use --config FILE, --dir DIR)`);
  }
  return { config, dir };
}

function installedVersion(dir: string, name: string): string | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

/** Installs the pinned cdktn packages into `dir` unless they are there; a reason string when that is impossible. */
function ensureCdktn(dir: string): string | undefined {
  const missing = Object.entries(CDKTN_PACKAGES).filter(([name, version]) => installedVersion(dir, name) !== version);
  if (missing.length === 0) return undefined;
  const probe = spawnSync("npm", ["view", `cdktn@${CDKTN_PACKAGES.cdktn}`, "version"], { encoding: "utf8", timeout: 30_000 });
  if (probe.status !== 0) {
    const lines = (probe.stderr || probe.error?.message || "timed out").split("\n");
    const why = lines.find((l) => /FetchError|reason:|ENOTFOUND|ETIMEDOUT|EAI_AGAIN/.test(l)) ?? lines.find((l) => l.trim() !== "") ?? "no answer";
    return `the npm registry is unreachable (npm view cdktn: ${why.replace(/^npm error\s*/, "").trim()})`;
  }
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, "package.json"))) fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "ums-edge-cdktn-compare", private: true }, null, 2) + "\n");
  const specs = Object.entries(CDKTN_PACKAGES).map(([name, version]) => `${name}@${version}`);
  process.stdout.write(`installing ${specs.join(" ")} into ${path.relative(ROOT, dir)} ...\n`);
  // --engine-strict off: @cdktn/provider-aws declares node >= 22.11 but runs on Node 20 (this script is the proof).
  const install = spawnSync("npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", "--engine-strict=false", "--loglevel=error", ...specs], { encoding: "utf8", timeout: 600_000 });
  if (install.status !== 0) throw new Error(`npm install of ${specs.join(" ")} failed:\n${install.stderr}`);
  return undefined;
}

/** A copy of dist/ whose seam loads cdktn; fails when any other file of the copy loads cdktf itself. */
function cdktnApp(dir: string): string {
  const dist = path.join(ROOT, "dist");
  const app = path.join(dir, "app", "dist");
  fs.rmSync(path.join(dir, "app"), { recursive: true, force: true });
  fs.cpSync(dist, app, { recursive: true });
  const others = (fs.readdirSync(path.join(app, "stacks"), { recursive: true }) as string[])
    // Files compiled from today's sources (an old build may leave others behind in dist/).
    .filter((f) => f.endsWith(".js") && path.join("stacks", f) !== SEAM && fs.existsSync(path.join(ROOT, "stacks", f.replace(/\.js$/, ".ts"))))
    .filter((f) => /require\("(constructs|cdktf|@cdktf\/[^"]+)"\)/.test(fs.readFileSync(path.join(app, "stacks", f), "utf8")));
  if (others.length > 0) throw new Error(`the seam is not one file: ${others.map((f) => `stacks/${f}`).join(", ")} load(s) constructs/cdktf directly`);
  const modules = path.join(dir, "node_modules");
  const seam = path.join(app, SEAM);
  const rewritten = fs
    .readFileSync(seam, "utf8")
    .replace(/require\("constructs"\)/g, `require(${JSON.stringify(path.join(modules, "constructs"))})`)
    .replace(/require\("cdktf"\)/g, `require(${JSON.stringify(path.join(modules, "cdktn"))})`)
    .replace(/require\("@cdktf\/provider-aws\/lib\/([a-z0-9-]+)"\)/g, (_m, resource: string) => `require(${JSON.stringify(path.join(modules, "@cdktn", "provider-aws", "lib", resource))})`);
  if (/require\("(constructs|cdktf|@cdktf\/)/.test(rewritten)) throw new Error(`${SEAM}: an import the comparison does not know how to swap is left`);
  fs.writeFileSync(seam, rewritten);
  return app;
}

function synth(distDir: string, config: string, out: string): void {
  fs.rmSync(out, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [path.join(distDir, "cli", "index.js"), "synth", "--config", config, "--out", out], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`synth with ${distDir} failed (exit ${r.status}):\n${r.stderr}`);
}

export interface Difference {
  readonly path: string;
  readonly cdktf?: unknown;
  readonly cdktn?: unknown;
}

/** Every leaf that differs between two JSON values, by JSON path. */
export function differences(a: unknown, b: unknown, at = ""): Difference[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => differences(a[k], b[k], `${at}.${k}`));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((v, i) => differences(v, b[i], `${at}[${i}]`));
  return [{ path: at || ".", cdktf: a, cdktn: b }];
}

function filesOf(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

function show(v: unknown): string {
  const s = v === undefined ? "(absent)" : JSON.stringify(v);
  return s.length > 90 ? `${s.slice(0, 87)}...` : s;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const skipped = ensureCdktn(args.dir);
  if (skipped) {
    process.stdout.write(`cdktn comparison skipped: ${skipped}\n`);
    return;
  }
  const started = Date.now();
  const app = cdktnApp(args.dir);
  const outCdktf = path.join(args.dir, "out-cdktf");
  const outCdktn = path.join(args.dir, "out-cdktn");
  synth(path.join(ROOT, "dist"), args.config, outCdktf);
  synth(app, args.config, outCdktn);

  const a = filesOf(outCdktf);
  const b = filesOf(outCdktn);
  const report: Record<string, unknown> = { config: args.config, versions: CDKTN_PACKAGES, files: {} };
  const lines: string[] = [`cdktf ${installedVersion(ROOT, "cdktf")} + @cdktf/provider-aws ${installedVersion(ROOT, "@cdktf/provider-aws")}  vs  cdktn ${CDKTN_PACKAGES.cdktn} + @cdktn/provider-aws ${CDKTN_PACKAGES["@cdktn/provider-aws"]} (constructs ${CDKTN_PACKAGES.constructs})`];
  const onlyIn = (x: string[], y: string[]) => x.filter((f) => !y.includes(f));
  for (const f of onlyIn(a, b)) lines.push(`only in the cdktf output: ${f}`);
  for (const f of onlyIn(b, a)) lines.push(`only in the cdktn output: ${f}`);
  let identical = 0;
  for (const f of a.filter((x) => b.includes(x))) {
    const left = fs.readFileSync(path.join(outCdktf, f));
    const right = fs.readFileSync(path.join(outCdktn, f));
    if (left.equals(right)) {
      identical++;
      continue;
    }
    const diffs = f.endsWith(".json") ? differences(JSON.parse(left.toString("utf8")), JSON.parse(right.toString("utf8"))) : [{ path: "(bytes)", cdktf: `${left.length} bytes`, cdktn: `${right.length} bytes` }];
    (report.files as Record<string, unknown>)[f] = diffs;
    lines.push(`${f}: ${diffs.length} difference(s)`);
    for (const d of diffs.slice(0, 12)) lines.push(`  ${d.path}: ${show(d.cdktf)} -> ${show(d.cdktn)}`);
    if (diffs.length > 12) lines.push(`  ... ${diffs.length - 12} more in ${path.relative(ROOT, path.join(args.dir, "report.json"))}`);
  }
  lines.push(`${identical} of ${a.length} files identical byte for byte; seam swapped: ${SEAM} only; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  fs.writeFileSync(path.join(args.dir, "report.json"), JSON.stringify(report, null, 2) + "\n");
  process.stdout.write(lines.join("\n") + "\n");
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`cdktn comparison failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
