import { UserError } from "../../../core/errors";
import type { SecurityGroup, SecurityGroupRule } from "../../terraform/security-groups";

/** The nftables table our rules live in (one per namespace; never the host's). */
export const NFT_TABLE = "ums_edge_sg";

const PROTOCOLS: Readonly<Record<string, string>> = { tcp: "tcp", "6": "tcp", udp: "udp", "17": "udp", icmp: "icmp", "1": "icmp", icmpv6: "ipv6-icmp", "58": "ipv6-icmp" };

/** Group id → the addresses of its members (resolving `referencedSecurityGroupId`). */
export type GroupMembers = (groupId: string) => readonly string[];

function ports(rule: SecurityGroupRule): string | undefined {
  const from = rule.fromPort ?? -1;
  const to = rule.toPort ?? -1;
  if (from === -1 && to === -1) return undefined;
  if (from < 0 || to < from || to > 65535) throw new UserError(`security group rule ${JSON.stringify(rule)}: port range ${from}-${to} is not valid`);
  return from === to ? `${from}` : `${from}-${to}`;
}

/** The protocol part of an nft rule ("" for all protocols). */
function protocolMatch(rule: SecurityGroupRule): string {
  const p = rule.ipProtocol.toLowerCase();
  if (p === "-1" || p === "all") return "";
  const name = PROTOCOLS[p];
  if (name === "tcp" || name === "udp") {
    const range = ports(rule);
    return range ? `${name} dport ${range}` : `meta l4proto ${name}`;
  }
  if (name === "icmp" || name === "ipv6-icmp") {
    const type = rule.fromPort ?? -1;
    const code = rule.toPort ?? -1;
    const family = name === "icmp" ? "icmp" : "icmpv6";
    return [`meta l4proto ${name}`, type >= 0 ? `${family} type ${type}` : "", type >= 0 && code >= 0 ? `${family} code ${code}` : ""].filter(Boolean).join(" ");
  }
  if (/^\d+$/.test(p) && Number(p) <= 255) return `meta l4proto ${p}`;
  throw new UserError(`security group rule ${JSON.stringify(rule)}: ip_protocol '${rule.ipProtocol}' is not one AWS accepts (tcp, udp, icmp, icmpv6, -1 or a number)`);
}

/** One nft rule line per peer family, or a comment when the rule admits nobody here. */
function ruleLines(rule: SecurityGroupRule, direction: "saddr" | "daddr", members: GroupMembers): string[] {
  const what = protocolMatch(rule);
  const accept = (family: "ip" | "ip6", peers: readonly string[]) => `${family} ${direction} ${peers.length === 1 ? peers[0] : `{ ${peers.join(", ")} }`} ${what} accept`.replace(/ +/g, " ");
  const comment = `# ${rule.description ?? "rule"}`;
  if (rule.cidrIpv4) return [comment, accept("ip", [rule.cidrIpv4])];
  if (rule.cidrIpv6) return [comment, accept("ip6", [rule.cidrIpv6])];
  if (rule.referencedSecurityGroupId) {
    const peers = members(rule.referencedSecurityGroupId);
    const v4 = peers.filter((a) => !a.includes(":"));
    const v6 = peers.filter((a) => a.includes(":"));
    const lines = [...(v4.length ? [accept("ip", v4)] : []), ...(v6.length ? [accept("ip6", v6)] : [])];
    return lines.length ? [comment, ...lines] : [`${comment} (group ${rule.referencedSecurityGroupId} has no members here: admits nobody)`];
  }
  throw new UserError(`security group rule ${JSON.stringify(rule)}: it names no peer (cidrIpv4, cidrIpv6 or referencedSecurityGroupId)`);
}

function chain(name: "input" | "output", groups: readonly SecurityGroup[], members: GroupMembers): string[] {
  const direction = name === "input" ? "saddr" : "daddr";
  const rules = groups.flatMap((g) =>
    (name === "input" ? g.ingress : g.egress).flatMap((r) => ruleLines({ ...r, description: `${g.name ?? g.id}: ${r.description ?? "rule"}` }, direction, members)),
  );
  return [
    `  chain ${name} {`,
    // Security groups are stateful and allow-only: replies pass, everything not allowed is dropped
    // silently (a blocked connect times out, as it does in a VPC). Loopback is inside the instance.
    `    type filter hook ${name} priority filter; policy drop;`,
    `    ${name === "input" ? "iifname" : "oifname"} "lo" accept`,
    "    ct state established,related accept",
    ...rules.map((l) => `    ${l}`),
    "  }",
  ];
}

/**
 * The nftables ruleset (`nft -f` input) enforcing `groups` on the namespace that hosts their members:
 * inbound from the ingress rules, outbound from the egress rules, union over the groups as in AWS.
 * It replaces our table atomically and touches no other table.
 */
export function securityGroupsToNftables(groups: readonly SecurityGroup[], members: GroupMembers): string {
  return [
    // "add, delete, define" in one transaction: replaces the table whether or not it existed.
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    ...chain("input", groups, members),
    ...chain("output", groups, members),
    "}",
    "",
  ].join("\n");
}

/** Removes our table (the namespace is unfiltered afterwards). */
export const NFT_REMOVE_TABLE = `table inet ${NFT_TABLE}\ndelete table inet ${NFT_TABLE}\n`;
