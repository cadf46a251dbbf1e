import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cleanupStale, NetnsLab, netnsAvailability, StartedNetnsLab } from "../../simulator/runtime/netns";
import { existingNamespaces } from "../../simulator/runtime/netns/preflight";
import { ICG_SECURITY_GROUPS, placeSecurityGroups, REVERSE_PROXY_SECURITY_GROUPS, RoleSecurityGroups } from "../../simulator/runtime/security-groups";
import { readStackSecurityGroups } from "../../simulator/terraform/security-groups";

/** Groups placed as the topologies place them: a front on the public side, the backend behind it (private). */
const behindFront = (groups: RoleSecurityGroups) => placeSecurityGroups(groups, { front: "public", backend: "private", ums: "private" });
import type { NetworkSide } from "../../simulator/runtime/security-groups";
import { UserError } from "../../core/errors";
import { synthesizeTestStacks } from "./synth-stack";
import { acquireHostRouteLock } from "../../simulator/runtime/netns/host-route-lock";

// One namespace lab at a time across jest workers (simulator/runtime/netns/host-route-lock.ts: the lock its labs take, re-entrant, held by the suite so its checks of the host see no other suite's lab).
let releaseNetns: (() => void) | undefined;
beforeAll(async () => {
  releaseNetns = await acquireHostRouteLock();
}, 610_000);
afterAll(() => releaseNetns?.());

const PREFIX = "uetest-";
const available = netnsAvailability();
const SKIP = available.ok ? "" : ` (skipped: needs root and ip netns — ${available.reason})`;
const withNetns = available.ok ? describe : describe.skip;

const FIXTURES = path.join(__dirname, "fixtures");
/** A pid above any pid_max: never a running process, so namespaces named with it are stale. */
const DEAD_PID = 4_194_305;

function hostLinks(): string[] {
  return spawnSync("ip", ["-o", "link"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.split(": ")[1])
    .filter(Boolean)
    .sort();
}

function hostRuleset(): string {
  return spawnSync("nft", ["list", "ruleset"], { encoding: "utf8" }).stdout;
}

function ours(names: readonly string[]): string[] {
  const existing = new Set(existingNamespaces());
  return names.filter((n) => existing.has(n));
}

/** A TCP server inside `side` on `port`, started with the lab's spawn(). */
async function listen(lab: StartedNetnsLab, side: NetworkSide, port: number): Promise<void> {
  const server = lab.spawn(side, process.execPath, ["-e", `require("net").createServer((s) => s.end()).listen(${port}, "0.0.0.0", () => console.log("listening ${port}"))`]);
  await server.waitForLine(new RegExp(`listening ${port}`));
}

/** Runs the child fixture (TypeScript through test/helpers/ts-register.js). */
function startChild(mode: "throw" | "wait", opts: { dropToUid?: number } = {}) {
  const drop = opts.dropToUid === undefined ? [] : [String(opts.dropToUid)];
  const child = spawn(process.execPath, ["-r", path.join(__dirname, "../helpers/ts-register.js"), path.join(FIXTURES, "netns-child.ts"), mode, PREFIX, ...drop], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const firstLine = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout.on("data", () => {
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n")) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    child.once("exit", (code) => (stdout.includes("\n") ? undefined : reject(new Error(`child exited (${code}) without a line; stderr: ${stderr}`))));
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, firstLine, exited, stderr: () => stderr };
}

describe("NetnsLab bad input (checked before anything is created)", () => {
  test.each([
    [{ prefix: "Bad Prefix" }, "netns prefix 'Bad Prefix' is not usable"],
    [{ id: "no-dashes" }, "netns id 'no-dashes' is not usable"],
    [{ subnets: { public: "10.1.0.0/16", private: "10.1.2.0/24" } }, "netns subnets: '10.1.0.0/16' (public) and '10.1.2.0/24' (private) overlap"],
    [{ subnets: { internet: "300.1.1.0/24" } }, "netns subnets.internet: '300.1.1.0/24' is not an IPv4 subnet"],
  ])("%j is refused: %s", async (options, message) => {
    const start = new NetnsLab({ prefix: PREFIX, ...options }).start();
    await expect(start).rejects.toThrow(UserError);
    await expect(start).rejects.toThrow(message);
  });
});

withNetns(`NetnsLab (Linux network namespaces)${SKIP}`, () => {
  beforeAll(async () => {
    await cleanupStale(PREFIX);
  });

  test("creates the topology, routes between the sides, and removes every namespace and veth on stop", async () => {
    const linksBefore = hostLinks();
    const lab = await new NetnsLab({ prefix: PREFIX }).start();
    const names = Object.values(lab.namespaces);
    try {
      expect(ours(names)).toEqual(names);
      const routerLinks = spawnSync("ip", ["-n", lab.namespaces.router, "-o", "link"], { encoding: "utf8" }).stdout;
      for (const side of ["internet", "public", "private"]) expect(routerLinks).toContain(`to-${side}@`);
      expect((await lab.exec("private", "ip", ["-o", "addr"])).stdout).toContain(`inet ${lab.address("private")}/24`);
      expect(hostLinks()).toEqual(linksBefore); // nothing created in the host's namespace
      await listen(lab, "public", 8443);
      expect(await lab.probe("internet", lab.address("public"), 8443)).toBe("connected");
      expect(await lab.probe("public", lab.address("private"), 8443)).toBe("refused"); // routed, nothing listening
      expect(lab.name).toBe("netns");
      expect(lab.describe()).toContain(`public ${lab.namespaces.public} (${lab.address("public")})`);
    } finally {
      await lab.stop();
    }
    expect(ours(names)).toEqual([]);
    expect(hostLinks()).toEqual(linksBefore);
  });

  test("spawn() exposes stdout lines; exec() runs to completion; spawner() places a raw process; stop() ends spawned processes", async () => {
    const lab = await new NetnsLab({ prefix: PREFIX }).start();
    try {
      const p = lab.spawn("internet", "sh", ["-c", "echo one; echo two; sleep 60"]);
      expect(await p.waitForLine(/two/)).toBe("two");
      expect(p.lines).toEqual(["one", "two"]);
      const r = await lab.exec("internet", "sh", ["-c", "cat; exit 3"], { input: "hello" });
      expect(r).toEqual({ code: 3, stdout: "hello", stderr: "" });
      const raw = lab.spawner("private")("ip", ["-o", "-4", "addr", "show", "eth0"]);
      let out = "";
      raw.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
      await new Promise((resolve) => raw.once("close", resolve));
      expect(out).toContain(`inet ${lab.address("private")}/24`);
      await lab.stop();
      expect(p.running).toBe(false);
    } finally {
      await lab.stop();
    }
  });

  describe("security groups as nftables rules", () => {
    let lab: StartedNetnsLab;
    let outdir: string;
    let stacks: Readonly<Record<string, string>>;
    let hostRulesBefore: string;

    beforeAll(async () => {
      hostRulesBefore = hostRuleset();
      ({ outdir, stacks } = await synthesizeTestStacks(["ums-alb-verify", "ums-alb-passthrough", "icg-alb-passthrough", "ums-direct"]));
      lab = await new NetnsLab({ prefix: PREFIX }).start();
      await Promise.all([listen(lab, "private", 8443), listen(lab, "private", 9000), listen(lab, "public", 8443), listen(lab, "public", 443)]);
    });

    afterAll(async () => {
      await lab?.stop();
      fs.rmSync(outdir, { recursive: true, force: true });
      expect(hostRuleset()).toBe(hostRulesBefore);
    });

    /** Probes every `from→to:port` in parallel (a blocked one waits for its timeout); result per key. */
    async function reach(...checks: ReadonlyArray<`${NetworkSide}→${NetworkSide}:${number}`>): Promise<Record<string, string>> {
      const results = await Promise.all(
        checks.map((check) => {
          const [, from, to, port] = /^(\w+)→(\w+):(\d+)$/.exec(check)!;
          return lab.probe(from as NetworkSide, lab.address(to as NetworkSide), Number(port));
        }),
      );
      return Object.fromEntries(checks.map((c, i) => [c, results[i]]));
    }

    // "timeout" is a silent drop, as in a VPC; "connected" means a server answered through the rules.
    test("ums-alb-verify: the UMS admits 8443 only from the ALB side; devices reach the ALB on 8443 and 443", async () => {
      const rulesets = await lab.applySecurityGroups(behindFront(readStackSecurityGroups(stacks["ums-alb-verify"])));
      expect(await reach("public→private:8443", "internet→private:8443", "internet→public:8443", "internet→public:443", "public→private:9000")).toEqual({
        "public→private:8443": "connected",
        "internet→private:8443": "timeout",
        "internet→public:8443": "connected",
        "internet→public:443": "connected",
        "public→private:9000": "timeout", // the ALB group's egress: 8443 to the UMS group only
      });
      expect(rulesets.private).toContain(`ip saddr ${lab.address("public")} tcp dport 8443 accept`);
      expect((await lab.exec("private", "nft", ["list", "table", "inet", "ums_edge_sg"])).code).toBe(0);
      expect(lab.describe()).toContain("nftables rules on public, private");
    });

    test.each(["ums-alb-passthrough", "icg-alb-passthrough"])("%s: the backend admits the ALB, not devices", async (variant) => {
      await lab.applySecurityGroups(behindFront(readStackSecurityGroups(stacks[variant])));
      expect(await reach("public→private:8443", "internet→private:8443", "internet→public:443")).toEqual({
        "public→private:8443": "connected",
        "internet→private:8443": "timeout",
        "internet→public:443": "timeout", // passthrough has one listener
      });
    });

    test("ums-direct: devices reach the UMS on 8443, and nothing else", async () => {
      await lab.applySecurityGroups(behindFront(readStackSecurityGroups(stacks["ums-direct"])));
      expect(await reach("internet→private:8443", "internet→private:9000", "public→private:8443")).toEqual({
        "internet→private:8443": "connected",
        "internet→private:9000": "timeout",
        "public→private:8443": "timeout", // not a device CIDR
      });
    });

    test("reverse-proxy: devices reach the proxy; only the proxy reaches the UMS", async () => {
      await lab.applySecurityGroups(behindFront(REVERSE_PROXY_SECURITY_GROUPS));
      expect(await reach("internet→public:8443", "public→private:8443", "internet→private:8443")).toEqual({
        "internet→public:8443": "connected",
        "public→private:8443": "connected",
        "internet→private:8443": "timeout",
      });
    });

    test("icg: the UMS connects out to the ICG; nothing connects in to the UMS", async () => {
      await lab.applySecurityGroups(placeSecurityGroups(ICG_SECURITY_GROUPS, { backend: "public", ums: "private" }));
      expect(await reach("private→public:8443", "internet→public:8443", "internet→private:8443", "public→private:8443")).toEqual({
        "private→public:8443": "connected",
        "internet→public:8443": "connected",
        "internet→private:8443": "timeout",
        "public→private:8443": "timeout",
      });
    });
  });

  test("a namespace name already taken: a clear error naming it, and nothing half-created", async () => {
    const taken = `${PREFIX}${process.pid}-taken1-pub`;
    spawnSync("ip", ["netns", "add", taken]);
    try {
      const start = new NetnsLab({ prefix: PREFIX, id: "taken1" }).start();
      await expect(start).rejects.toThrow(UserError);
      await expect(start).rejects.toThrow(`network namespace '${taken}' already exists (left over from an earlier run?); nothing was created.\n  fix: ip netns del ${taken}`);
      expect(existingNamespaces().filter((n) => n.includes("-taken1-"))).toEqual([taken]);
    } finally {
      spawnSync("ip", ["netns", "del", taken]);
    }
  });

  test("nft missing: a clear error with the apt-get fix, and nothing created", async () => {
    const start = new NetnsLab({ prefix: PREFIX, id: "nonft", nftBinary: "/nonexistent/nft" }).start();
    await expect(start).rejects.toThrow(UserError);
    await expect(start).rejects.toThrow(/nftables \('\/nonexistent\/nft'\) is not installed.*\n  fix: .*apt-get install -y iproute2 nftables/);
    expect(existingNamespaces().filter((n) => n.includes("-nonft-"))).toEqual([]);
  });

  test("not root: a clear error before anything is created (a child process running as nobody)", async () => {
    const run = startChild("wait", { dropToUid: 65534 });
    const line = await run.firstLine;
    await run.exited;
    expect(line.name).toBe("UserError");
    expect(line.error).toMatch(/^cannot use the network-namespace runtime: the namespace runtime needs root.*\n  fix: run as root/);
  });

  test("cleanupStale removes a crashed run's namespaces and keeps a live lab's", async () => {
    const stale = [`${PREFIX}${DEAD_PID}-dead01-pub`, `${PREFIX}${DEAD_PID}-dead01-rtr`];
    for (const n of stale) spawnSync("ip", ["netns", "add", n]);
    const live = await new NetnsLab({ prefix: PREFIX }).start();
    try {
      expect((await cleanupStale(PREFIX)).sort()).toEqual(stale.sort());
      expect(ours(stale)).toEqual([]);
      expect(ours(Object.values(live.namespaces))).toEqual(Object.values(live.namespaces));
    } finally {
      await live.stop();
      for (const n of stale) spawnSync("ip", ["netns", "del", n]);
    }
  });

  test.each([
    ["throws an uncaught exception", "throw"],
    ["is stopped with SIGTERM", "wait"],
  ] as const)("teardown also happens when the process %s (exit hooks)", async (_, mode) => {
    const run = startChild(mode);
    const line = await run.firstLine;
    const names = line.namespaces as string[];
    expect(names).toHaveLength(4);
    try {
      expect(ours(names)).toEqual(names);
      run.child.kill(mode === "wait" ? "SIGTERM" : "SIGUSR2");
      await run.exited;
      expect(ours(names)).toEqual([]);
    } finally {
      run.child.kill("SIGKILL");
      for (const n of ours(names)) spawnSync("ip", ["netns", "del", n]);
    }
  });
});
