/**
 * A small model of AWS security groups, field names as the AWS provider spells them (camelCase of
 * `aws_vpc_security_group_ingress_rule`), so values pass straight through from a synthesized stack.
 */

/** Where the network-isolation runtimes place components (design section 1). */
export type NetworkSide = "internet" | "public" | "private";
export const NETWORK_SIDES: readonly NetworkSide[] = ["internet", "public", "private"];

export interface SecurityGroupRule {
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all) or a protocol number, as AWS takes it. */
  readonly ipProtocol: string;
  /** First port (ICMP: type); -1 or unset: all. */
  readonly fromPort?: number;
  /** Last port (ICMP: code); -1 or unset: all. */
  readonly toPort?: number;
  /** The peer (source of ingress, destination of egress): exactly one of these three. */
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  /** Another group's id: its members are the peers. */
  readonly referencedSecurityGroupId?: string;
  readonly description?: string;
}

export interface SecurityGroup {
  /** How rules refer to the group (the Terraform resource name in a synthesized stack). */
  readonly id: string;
  /** The group's AWS name, for comments and messages. */
  readonly name?: string;
  readonly ingress: readonly SecurityGroupRule[];
  /**
   * Outbound rules. Terraform removes AWS's default allow-all egress rule from groups it creates,
   * so an empty list really means: nothing may leave (except replies).
   */
  readonly egress: readonly SecurityGroupRule[];
}

/** Security groups and the side whose namespace hosts each group's members. */
export interface SecurityGroupLayout {
  readonly groups: readonly SecurityGroup[];
  /** Group ids per side; a side without groups is not filtered. */
  readonly placement: Readonly<Partial<Record<NetworkSide, readonly string[]>>>;
}
