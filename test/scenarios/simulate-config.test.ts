import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { stringify } from "yaml";
import { simulate, SimulateResult } from "../../simulator/scenarios/simulate";
import { prepareLabFromConfig } from "../../simulator/runtime/user-lab";
import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import { topologiesFor } from "../../cli/topology-choice";
import { projectRoot } from "../../core/project-root";
import { tempDir } from "../helpers/config";
import { makeOpensslExports, OpensslExports } from "../helpers/openssl-exports";

/**
 * `simulate --config`: the scenarios run through the stacks synthesized from an administrator's own
 * config, with certificates made by openssl the way real exports look. What they gave is served as
 * given; what they cannot give is substituted and named.
 */

const BIN = path.join(projectRoot(), "dist", "cli", "index.js");
let exportsDir: OpensslExports;
let configFile: string;
let result: SimulateResult;

function writeUserConfig(dir: string, stacks: unknown[], extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, "corp.yaml");
  fs.writeFileSync(
    file,
    stringify({
      project: "corp-ums",
      region: "eu-west-1",
      network: { vpcId: "vpc-0123456789abcdef0", albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], deviceCidrs: ["10.20.0.0/16"] },
      cluster: { fqdn: "ums.corp.test" },
      certificates: { clientCaChain: path.relative(dir, exportsDir.clientCaChain), web: { privateKey: exportsDir.web.privateKey, headOnlyBody: exportsDir.web.headOnlyBody, entireChain: exportsDir.web.entireChain } },
      stacks,
      ...extra,
    }),
  );
  return file;
}

beforeAll(async () => {
  const dir = tempDir("ums-edge-userconfig-");
  exportsDir = makeOpensslExports(path.join(dir, "exports"), { fqdnPattern: "*.corp.test", webKey: "ec", deviceCaBits: [3072, 2048] });
  configFile = writeUserConfig(dir, [{ variant: "ums-alb-verify", pathAllowList: false, headerNames: { leaf: "X-Client-Cert-Leaf" } }, { variant: "ums-direct" }]);
  result = await simulate({
    topologies: await topologiesFor("all", configFile),
    devices: 2,
    reportDir: path.join(dir, "reports"),
    labDir: path.join(dir, "lab"),
    runtime: "loopback",
    configFile,
    out: fs.createWriteStream("/dev/null") as unknown as NodeJS.WriteStream,
  });
}, 300_000);

test("every applicable cell meets its expectation, and the topologies are the config's own", () => {
  const mismatches = result.report.cells.filter((c) => c.verdict === "fail").map((c) => `${c.topology}/${c.scenario}: expected ${c.expected}, got ${c.actual}`);
  expect(mismatches).toEqual([]);
  expect(result.report.topologies.map((t) => [t.name, t.source])).toEqual([
    ["direct", "your stack"],
    ["alb-verify", "your stack"],
  ]);
});

test("the report names each input as yours or substituted, with the device CA's shape", () => {
  const inputs = result.report.inputs!;
  expect(inputs.configFile).toBe(configFile);
  const origin = Object.fromEntries(inputs.inputs.map((i) => [i.input, i.origin]));
  expect(origin).toMatchObject({ config: "yours", "web certificate: privateKey": "yours", "web certificate: entireChain": "yours", "client CA chain (trust store bundle)": "substituted", "device CIDRs": "substituted" });
  expect(inputs.inputs.find((i) => i.input === "client CA chain (trust store bundle)")!.note).toContain("depth 2, RSA 3072/2048 root first");
  const html = fs.readFileSync(result.files.html, "utf8");
  expect(html).toContain("Inputs: yours / substituted");
  expect(html).toContain("from your stack");
});

test("the administrator's settings set the expectations: allow-list off lets /umsapi/ through, no CRL lets a revoked device reach the UMS", () => {
  const cell = (s: string) => result.report.cells.find((c) => c.topology === "alb-verify" && c.scenario === s)!;
  expect([cell("path-outside-allow-list").expected, cell("path-outside-allow-list").verdict]).toEqual(["ok", "pass"]);
  expect([cell("cert-revoked").expected, cell("cert-revoked").verdict]).toEqual(["401 from the UMS", "pass"]);
  expect([cell("cert-expired").expected, cell("cert-expired").verdict]).toEqual(["refused in the TLS handshake by the ALB (Failed:ClientCertExpired)", "pass"]);
});

test("the emulated ALB serves the administrator's web certificate and chain; the UMS reads the renamed header", async () => {
  const lab = await prepareLabFromConfig(path.join(exportsDir.dir, "..", "lab-up"), configFile);
  expect(fs.readFileSync(lab.appConfigFile("stack", "ums-alb-verify"), "utf8")).toContain("client-cert-forwarded-header: X-Client-Cert-Leaf");
  const runtime = new LoopbackRuntime();
  const topology = await startTopology("alb-verify", runtime, lab);
  try {
    const u = new URL(topology.devices.enrollmentUrl);
    const served = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
      const s = tls.connect({ host: u.hostname, port: Number(u.port), servername: "ums.corp.test", ca: fs.readFileSync(exportsDir.webRoot) }, () => {
        resolve(s.getPeerCertificate(true));
        s.end();
      });
      s.on("error", reject);
    });
    const leaf = new X509Certificate(fs.readFileSync(exportsDir.web.headOnlyBody));
    expect(served.fingerprint256).toBe(leaf.fingerprint256);
    expect(served.issuerCertificate.subject.CN).toBe("Corp Test Web Intermediate");
  } finally {
    await topology.stop();
  }
}, 120_000);

describe("bad input is refused before anything starts", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, "simulate", ...args], { cwd: projectRoot(), encoding: "utf8", timeout: 60_000 });

  test("a config whose files are missing names the field and the fix; no lab is made", () => {
    const dir = tempDir("ums-edge-badconfig-");
    const file = path.join(dir, "c.yaml");
    fs.writeFileSync(file, fs.readFileSync(configFile, "utf8").replace(/clientCaChain: .*/, "clientCaChain: missing/chain.pem"));
    const r = run(["--config", file, "--lab", path.join(dir, "lab"), "--report", path.join(dir, "r")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/certificates\.clientCaChain: .*missing\/chain\.pem' does not exist/);
    expect(r.stderr).toMatch(/fix: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dir, "lab"))).toBe(false);
  });

  test("an empty stack list, and a topology the config has no stack for", () => {
    const dir = tempDir("ums-edge-badconfig-");
    const empty = path.join(dir, "empty.yaml");
    fs.writeFileSync(empty, fs.readFileSync(configFile, "utf8").replace(/stacks:[\s\S]*$/, "stacks: []\n"));
    const r1 = run(["--config", empty, "--lab", path.join(dir, "lab")]);
    expect([r1.status, r1.stderr]).toEqual([2, expect.stringMatching(/stacks: list at least one stack/)]);
    const r2 = run(["--config", configFile, "--topology", "alb-passthrough", "--lab", path.join(dir, "lab")]);
    expect([r2.status, r2.stderr]).toEqual([2, expect.stringMatching(/--topology alb-passthrough: .* has no 'ums-alb-passthrough' stack.*\n  fix: add '- variant: ums-alb-passthrough'/)]);
    const r3 = run(["--config", configFile, "--topology", "reverse-proxy", "--lab", path.join(dir, "lab")]);
    expect([r3.status, r3.stderr]).toEqual([2, expect.stringMatching(/--topology reverse-proxy: this topology has no stack of its own/)]);
    expect(fs.existsSync(path.join(dir, "lab"))).toBe(false);
  });
});
