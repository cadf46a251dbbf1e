import { spawnSync } from "node:child_process";
import { UserError } from "../../protocol/user-error";

export type NetnsAvailability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Whether this process can run the namespace runtime (Linux, root, a working `ip netns`).
 * Synchronous and side-effect free, so test files and runtime selection can decide up front.
 */
export function netnsAvailability(): NetnsAvailability {
  if (process.platform !== "linux") return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: "the namespace runtime needs root (it creates namespaces, veth pairs and nftables rules)" };
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    return { ok: false, reason: `'ip netns' does not work here: ${(r.error?.message ?? r.stderr ?? "").trim() || `exit ${r.status}`}` };
  }
  return { ok: true };
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
  const available = netnsAvailability();
  if (!available.ok) {
    throw new UserError(
      `cannot use the network-namespace runtime: ${available.reason}.\n  fix: run as root on Linux with iproute2 ('sudo -E npm test'; 'apt-get install -y iproute2'), or use the loopback runtime`,
    );
  }
  const nft = spawnSync(nftBinary, ["--version"], { encoding: "utf8" });
  if (nft.error || nft.status !== 0) {
    throw new UserError(`cannot use the network-namespace runtime: nftables ('${nftBinary}') is not available (${nft.error?.message ?? nft.stderr.trim()}).\n  fix: apt-get install -y nftables`);
  }
  const existing = new Set(existingNamespaces());
  const taken = names.filter((n) => existing.has(n));
  if (taken.length) {
    throw new UserError(
      `network namespace${taken.length > 1 ? "s" : ""} ${taken.map((n) => `'${n}'`).join(", ")} already exist${taken.length > 1 ? "" : "s"} (left over from an earlier run?); nothing was created.\n  fix: ${taken.map((n) => `ip netns del ${n}`).join("; ")} (or cleanupStale with the lab's prefix)`,
    );
  }
}
