import type { StackReader } from "./stack-reader";
import { openStack } from "./read-stack";
import { UserError } from "../../core/errors";

/*
 * The security groups of a synthesized stack (aws_security_group with inline rules, and standalone
 * aws_vpc_security_group_{ingress,egress}_rule), field names as the AWS provider spells them
 * (camelCase), and which groups the load balancer and the instance are members of.
 */

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

/** A topology's groups and, per role, the groups its components are members of. */
export interface StackSecurityGroups {
  readonly groups: readonly SecurityGroup[];
  /** front: the load balancer's groups; backend: the instance's (UMS or ICG). */
  readonly members: { readonly front: readonly string[]; readonly backend: readonly string[] };
}

type Json = Record<string, unknown>;
const SG_REF = /^\$\{aws_security_group\.([^.}]+)\.id\}$/;

/** `${aws_security_group.X.id}` → X; a literal id (sg-...) stays as it is. */
function groupRef(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return SG_REF.exec(value)?.[1] ?? value;
}

function resources(reader: StackReader, type: string): Array<[string, Json]> {
  return reader.resources(type).map((r) => [r.name, r.body as Json]);
}

function num(value: unknown): number | undefined {
  return typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : undefined;
}

/** A standalone `aws_vpc_security_group_{ingress,egress}_rule`. */
function standaloneRule(r: Json): SecurityGroupRule {
  return {
    ipProtocol: String(r.ip_protocol),
    fromPort: num(r.from_port),
    toPort: num(r.to_port),
    cidrIpv4: r.cidr_ipv4 as string | undefined,
    cidrIpv6: r.cidr_ipv6 as string | undefined,
    referencedSecurityGroupId: groupRef(r.referenced_security_group_id),
    description: r.description as string | undefined,
  };
}

/** An inline `ingress`/`egress` block of `aws_security_group` (one block may name many peers). */
function inlineRules(block: Json, self: string): SecurityGroupRule[] {
  const base = { ipProtocol: String(block.protocol), fromPort: num(block.from_port), toPort: num(block.to_port), description: block.description as string | undefined };
  const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);
  return [
    ...list(block.cidr_blocks).map((c) => ({ ...base, cidrIpv4: String(c) })),
    ...list(block.ipv6_cidr_blocks).map((c) => ({ ...base, cidrIpv6: String(c) })),
    ...list(block.security_groups).map((g) => ({ ...base, referencedSecurityGroupId: groupRef(g) })),
    ...(block.self === true ? [{ ...base, referencedSecurityGroupId: self }] : []),
  ];
}

/** The security groups of a parsed cdk.tf.json and where their members run. */
export function securityGroupsOfStack(reader: StackReader): StackSecurityGroups {
  const groups = new Map<string, { id: string; name?: string; ingress: SecurityGroupRule[]; egress: SecurityGroupRule[] }>();
  for (const [key, sg] of resources(reader, "aws_security_group")) {
    const blocks = (v: unknown) => (Array.isArray(v) ? (v as Json[]) : []);
    groups.set(key, {
      id: key,
      name: sg.name as string | undefined,
      ingress: blocks(sg.ingress).flatMap((b) => inlineRules(b, key)),
      egress: blocks(sg.egress).flatMap((b) => inlineRules(b, key)),
    });
  }
  for (const [direction, type] of [["ingress", "aws_vpc_security_group_ingress_rule"], ["egress", "aws_vpc_security_group_egress_rule"]] as const) {
    for (const [key, rule] of resources(reader, type)) {
      const owner = groupRef(rule.security_group_id);
      const group = owner && groups.get(owner);
      if (!group) throw new UserError(`${reader.file}: ${type}.${key} belongs to security group '${rule.security_group_id}', which the stack does not define`);
      group[direction].push(standaloneRule(rule));
    }
  }
  const referenced = (type: string, field: string) =>
    [...new Set(resources(reader, type).flatMap(([, r]) => (Array.isArray(r[field]) ? (r[field] as unknown[]) : []).map(groupRef)))].filter(
      (id): id is string => id !== undefined,
    );
  return {
    groups: [...groups.values()],
    members: { front: referenced("aws_lb", "security_groups"), backend: referenced("aws_instance", "vpc_security_group_ids") },
  };
}

/** The security groups of the stack in `stackDir`. UserError when it cannot be read. */
export function readStackSecurityGroups(stackDir: string): StackSecurityGroups {
  return securityGroupsOfStack(openStack(stackDir));
}
