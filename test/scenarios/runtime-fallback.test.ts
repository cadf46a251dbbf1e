import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { projectRoot } from "../../core/project-root";
import { tempDir } from "../helpers/config";

/**
 * `--runtime auto` never fails for a missing prerequisite: with nftables hidden from PATH it runs on
 * loopback, says why in one line, and the report names what was therefore not proved.
 */

const BIN = path.join(projectRoot(), "dist", "cli", "index.js");

/** PATH without the sbin directories, where Debian puts nft (ip and node stay reachable in /usr/bin). */
const PATH_WITHOUT_NFT = (process.env.PATH ?? "")
  .split(path.delimiter)
  .filter((d) => d && !/sbin/.test(d) && !fs.existsSync(path.join(d, "nft")))
  .join(path.delimiter);

test("with nft hidden from PATH, --runtime auto runs on loopback, says why once, and the report names the skipped bypass row", () => {
  const dir = tempDir("ums-edge-fallback-");
  const r = spawnSync(process.execPath, [BIN, "simulate", "--topology", "icg", "--devices", "1", "--runtime", "auto", "--report", path.join(dir, "reports"), "--lab", path.join(dir, "lab")], {
    cwd: projectRoot(),
    encoding: "utf8",
    env: { ...process.env, PATH: PATH_WITHOUT_NFT, CI: "true" },
    timeout: 180_000,
  });
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.status).toBe(0);
  const why = r.stderr.split("\n").filter((l) => l.startsWith("runtime: loopback, because"));
  expect(why).toHaveLength(1);
  // As root the missing nft is the reason; elsewhere root itself is.
  expect(why[0]).toMatch(process.getuid?.() === 0 ? /nftables \('nft'\) is not installed/ : /needs root/);

  const report = JSON.parse(fs.readFileSync(path.join(dir, "reports", "report.json"), "utf8"));
  expect(report.runtime).toMatch(/^loopback: .*network namespaces unavailable/);
  expect(report.notProved).toEqual([expect.stringMatching(/bypass row is skipped/)]);
  const bypass = report.cells.find((c: { scenario: string }) => c.scenario === "bypass-front");
  expect(bypass).toMatchObject({ topology: "icg", verdict: "skipped" });
  expect(r.stdout).toMatch(/SKIPPED icg \/ bypass-front: not provable on the loopback runtime/);
  expect(r.stdout).toMatch(/not proved on this runtime: that a device cannot reach the UMS past the front/);
});
