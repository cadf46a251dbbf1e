import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../../../core/errors";
import type { SecurityGroupLayout, SecurityGroupRule } from "./model";

/*
 * Reads the security groups of a synthesized stack straight from its cdk.tf.json (kept apart from
 * simulator/terraform so the runtime needs no component). The ALB's groups host the public side,
 * the instance's groups (UMS or ICG) the private side.
 */

type Json = Record<string, unknown>;

const SG_REF = /^\$\{aws_security_group\.([^.}]+)\.id\}$/;

/** `${aws_security_group.X.id}` → X; a literal id (sg-...) stays as it is. */
function groupRef(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return SG_REF.exec(value)?.[1] ?? value;
}

function resources(doc: Json, type: string): Array<[string, Json]> {
  const all = (doc.resource ?? {}) as Record<string, Record<string, Json>>;
  return Object.entries(all[type] ?? {});
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
export function securityGroupsOfStack(doc: Json, source = "cdk.tf.json"): SecurityGroupLayout {
  const groups = new Map<string, { id: string; name?: string; ingress: SecurityGroupRule[]; egress: SecurityGroupRule[] }>();
  for (const [key, sg] of resources(doc, "aws_security_group")) {
    const blocks = (v: unknown) => (Array.isArray(v) ? (v as Json[]) : []);
    groups.set(key, {
      id: key,
      name: sg.name as string | undefined,
      ingress: blocks(sg.ingress).flatMap((b) => inlineRules(b, key)),
      egress: blocks(sg.egress).flatMap((b) => inlineRules(b, key)),
    });
  }
  for (const [direction, type] of [["ingress", "aws_vpc_security_group_ingress_rule"], ["egress", "aws_vpc_security_group_egress_rule"]] as const) {
    for (const [key, rule] of resources(doc, type)) {
      const owner = groupRef(rule.security_group_id);
      const group = owner && groups.get(owner);
      if (!group) throw new UserError(`${source}: ${type}.${key} belongs to security group '${rule.security_group_id}', which the stack does not define`);
      group[direction].push(standaloneRule(rule));
    }
  }
  const referenced = (type: string, field: string) =>
    [...new Set(resources(doc, type).flatMap(([, r]) => (Array.isArray(r[field]) ? (r[field] as unknown[]) : []).map(groupRef)))].filter(
      (id): id is string => id !== undefined,
    );
  return {
    groups: [...groups.values()],
    placement: { public: referenced("aws_lb", "security_groups"), private: referenced("aws_instance", "vpc_security_group_ids") },
  };
}

/** Reads `file` (a cdk.tf.json, or the stack directory holding one). UserError when it cannot. */
export function readStackSecurityGroups(file: string): SecurityGroupLayout {
  const jsonFile = fs.existsSync(file) && fs.statSync(file).isDirectory() ? path.join(file, "cdk.tf.json") : file;
  let doc: Json;
  try {
    doc = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as Json;
  } catch (e) {
    throw new UserError(`${jsonFile}: cannot read the synthesized stack (${(e as Error).message})\n  fix: run 'ums-edge synth' and give the stack's directory or its cdk.tf.json`);
  }
  return securityGroupsOfStack(doc, jsonFile);
}
