/**
 * One cold synthesis of every stack of a config, in a fresh process: prints one JSON line with the
 * wall time since the process started (module loading included) and the peak resident memory.
 */
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";

async function main(): Promise<void> {
  const config = await loadConfig(process.argv[2], { labPki: labPkiCertificates });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-bench-synth-"));
  const result = synthesize(config, out);
  const wallMs = performance.now();
  fs.rmSync(out, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ stacks: Object.keys(result.stacks).length, wallMs, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
});
