import type { SecurityGroup } from "../../terraform/security-groups";

/** Where the network-isolation runtimes place components (design section 1). */
export type NetworkSide = "internet" | "public" | "private";
export const NETWORK_SIDES: readonly NetworkSide[] = ["internet", "public", "private"];

/** Security groups and the side whose namespace hosts each group's members. */
export interface SecurityGroupLayout {
  readonly groups: readonly SecurityGroup[];
  /** Group ids per side; a side without groups is not filtered. */
  readonly placement: Readonly<Partial<Record<NetworkSide, readonly string[]>>>;
}

/** A component role whose members a group lists: the front, the backend, and the UMS where it is not the backend. */
export type SecurityGroupRole = "front" | "backend" | "ums";

/** Groups by the role of their members (a stack's, or a hand-written layout). */
export interface RoleSecurityGroups {
  readonly groups: readonly SecurityGroup[];
  readonly members: Readonly<Partial<Record<SecurityGroupRole, readonly string[]>>>;
}

/** Puts each role's groups on the side its component runs on. */
export function placeSecurityGroups(groups: RoleSecurityGroups, sides: Readonly<Partial<Record<SecurityGroupRole, NetworkSide>>>): SecurityGroupLayout {
  const placement: Partial<Record<NetworkSide, string[]>> = {};
  for (const [role, ids] of Object.entries(groups.members) as Array<[SecurityGroupRole, readonly string[]]>) {
    const side = sides[role];
    if (!side || ids.length === 0) continue;
    placement[side] = [...new Set([...(placement[side] ?? []), ...ids])];
  }
  return { groups: groups.groups, placement };
}
