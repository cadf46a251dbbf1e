import { openStack } from "./read-stack";
import { parseExpression } from "./expressions";
import type { StackReader, TfResource } from "./stack-reader";
import { securityGroupsOfStack, SecurityGroupRule, StackSecurityGroups } from "./security-groups";

/**
 * The EC2 instances of a synthesized stack (the UMS or ICG server) as a summary reads them: type,
 * image, subnet, disk, static IP and who may connect in. Values Terraform knows only after apply
 * (ids, addresses) are left out; nothing here is needed to emulate anything, so nothing is a problem.
 */

export interface InstanceModel {
  readonly address: string;
  /** `instance_type`, when literal. */
  readonly instanceType?: string;
  /** The AMI's name filter (`data.aws_ami` with a `name` filter), or a literal AMI id. */
  readonly image?: string;
  readonly subnetId?: string;
  readonly rootVolumeGiB?: number;
  readonly keyName?: string;
  /** An aws_eip of the stack is attached to it (a static public IP, as the IGEL guide asks). */
  readonly staticPublicIp: boolean;
  /** Inbound rules of its security groups. */
  readonly ingress: readonly IngressModel[];
}

export interface IngressModel {
  /** `tcp 8443`, `tcp 443-8443`, `all`. */
  readonly ports: string;
  /** A CIDR block, or the security group the traffic must come from (`security group <name>`). */
  readonly from: string;
  readonly description?: string;
}

const literal = (value: unknown): string | undefined => {
  const e = parseExpression(value);
  return e.kind === "literal" && (typeof e.value === "string" || typeof e.value === "number") ? String(e.value) : undefined;
};

/** `${type.name.attr}` → `type.name`. */
const referenced = (value: unknown): string | undefined => {
  const e = parseExpression(value);
  return e.kind === "reference" ? `${e.type}.${e.name}` : undefined;
};

function imageOf(reader: StackReader, instance: TfResource): string | undefined {
  const ami = instance.body.ami;
  const direct = literal(ami);
  if (direct) return direct;
  // A data source (`${data.aws_ami.x.id}`): name the image by its name filter.
  const m = typeof ami === "string" ? /^\$\{data\.aws_ami\.([^.}]+)\.id\}$/.exec(ami) : null;
  const data = (reader.json.data as Record<string, Record<string, Record<string, unknown>>> | undefined)?.aws_ami?.[m?.[1] ?? ""];
  const filters = data ? reader.blocks(data, "filter") : [];
  const name = filters.find((f) => f.name === "name")?.values;
  return Array.isArray(name) ? name.map(String).join(", ") : undefined;
}

function portsOf(rule: SecurityGroupRule): string {
  if (rule.ipProtocol === "-1") return "all";
  const all = rule.fromPort === undefined || rule.fromPort === -1;
  return all ? `${rule.ipProtocol} all ports` : `${rule.ipProtocol} ${rule.fromPort === rule.toPort ? rule.fromPort : `${rule.fromPort}-${rule.toPort}`}`;
}

/** Inbound rules of the instance's groups, peers named as a person reads them. */
function ingressOf(groups: StackSecurityGroups, memberOf: readonly string[]): IngressModel[] {
  const named = (id: string) => `security group ${groups.groups.find((g) => g.id === id)?.name ?? id}`;
  return groups.groups
    .filter((g) => memberOf.includes(g.id))
    .flatMap((g) => g.ingress)
    .map((r) => ({
      ports: portsOf(r),
      from: r.cidrIpv4 ?? r.cidrIpv6 ?? (r.referencedSecurityGroupId ? named(r.referencedSecurityGroupId) : "?"),
      description: r.description,
    }));
}

/** The instances of the stack in `stackDir`, in the order of cdk.tf.json. */
export function readInstances(stackDir: string): InstanceModel[] {
  const reader = openStack(stackDir);
  const groups = securityGroupsOfStack(reader);
  return reader.resources("aws_instance").map((instance) => {
    // Group ids as the security-group reader keys them: the resource name, or a literal sg- id.
    const memberOf = (Array.isArray(instance.body.vpc_security_group_ids) ? instance.body.vpc_security_group_ids : []).map((g) => {
      const e = parseExpression(g);
      return e.kind === "reference" && e.type === "aws_security_group" ? e.name : String(g);
    });
    const root = reader.block(instance.body, "root_block_device");
    const size = root ? literal(root.volume_size) : undefined;
    return {
      address: instance.address,
      instanceType: literal(instance.body.instance_type),
      image: imageOf(reader, instance),
      subnetId: literal(instance.body.subnet_id),
      rootVolumeGiB: size === undefined ? undefined : Number(size),
      keyName: literal(instance.body.key_name),
      staticPublicIp: reader.resources("aws_eip").some((eip) => referenced(eip.body.instance) === instance.address),
      ingress: ingressOf(groups, memberOf),
    };
  });
}
