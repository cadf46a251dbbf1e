import { spawnSync } from "node:child_process";
import { UserError } from "../../../core/errors";

/** What to do when the namespace runtime is unavailable. */
export const NETNS_FIX = "run as root on Linux with iproute2 and nftables ('apt-get install -y iproute2 nftables', or bash scripts/ensure-system-tools.sh)";

export type NetnsAvailability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Whether this process can run the namespace runtime: Linux, root, a working `ip netns`, nftables,
 * and a kernel that really creates a namespace with a veth pair (containers often forbid it).
 * Synchronous, so test files and runtime selection can decide up front; the only side effect is a
 * throwaway namespace, removed again before it returns. `nftBinary` is looked up on PATH.
 */
export function netnsAvailability(nftBinary = "nft"): NetnsAvailability {
  if (process.platform !== "linux") return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: "the namespace runtime needs root (it creates namespaces, veth pairs and nftables rules)" };
  const ip = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (ip.error || ip.status !== 0) {
    const why = (ip.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT" ? "iproute2 ('ip') is not installed" : `'ip netns' does not work here: ${(ip.error?.message ?? ip.stderr ?? "").trim() || `exit ${ip.status}`}`;
    return { ok: false, reason: why };
  }
  const nft = spawnSync(nftBinary, ["--version"], { encoding: "utf8" });
  if (nft.error || nft.status !== 0) {
    const why = (nft.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT" ? "not installed" : (nft.error?.message ?? nft.stderr).trim();
    return { ok: false, reason: `nftables ('${nftBinary}') is ${why === "not installed" ? "not installed" : `not usable: ${why}`}` };
  }
  return probeNamespace();
}

/** Creates a namespace with a veth pair inside it and removes it: proves the kernel lets us. */
function probeNamespace(): NetnsAvailability {
  const name = `ums-edge-probe-${process.pid}`;
  const run = (args: string[]) => spawnSync("ip", args, { encoding: "utf8" });
  try {
    const steps: string[][] = [
      ["netns", "add", name],
      ["-n", name, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"],
      ["-n", name, "link", "set", "probe0", "up"],
    ];
    for (const args of steps) {
      const r = run(args);
      if (r.error || r.status !== 0) return { ok: false, reason: `this kernel or container does not let us build network namespaces ('ip ${args.join(" ")}': ${(r.stderr || r.error?.message || "").trim()})` };
    }
    return { ok: true };
  } finally {
    run(["netns", "del", name]);
  }
}

/** The namespaces that exist now (`ip netns list`, ids stripped). */
export function existingNamespaces(): string[] {
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  return (r.stdout ?? "")
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

/**
 * Everything the lab needs, checked before anything is created: root + ip netns, nft, and that none
 * of `names` is taken. Throws a UserError naming the fix.
 */
export function checkNetnsPrerequisites(names: readonly string[], nftBinary: string): void {
  const available = netnsAvailability(nftBinary);
  if (!available.ok) {
    throw new UserError(`cannot use the network-namespace runtime: ${available.reason}.\n  fix: ${NETNS_FIX}, or use the loopback runtime`);
  }
  const existing = new Set(existingNamespaces());
  const taken = names.filter((n) => existing.has(n));
  if (taken.length) {
    throw new UserError(
      `network namespace${taken.length > 1 ? "s" : ""} ${taken.map((n) => `'${n}'`).join(", ")} already exist${taken.length > 1 ? "" : "s"} (left over from an earlier run?); nothing was created.\n  fix: ${taken.map((n) => `ip netns del ${n}`).join("; ")} (or cleanupStale with the lab's prefix)`,
    );
  }
}
