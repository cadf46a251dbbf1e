import { openStack } from "./read-stack";
import { parseExpression } from "./expressions";
import type { StackReader, TfResource } from "./stack-reader";

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

function portsOf(rule: Readonly<Record<string, unknown>>): string {
  const protocol = literal(rule.ip_protocol) ?? "?";
  if (protocol === "-1") return "all";
  const from = literal(rule.from_port);
  const to = literal(rule.to_port);
  return `${protocol} ${from === to ? from : `${from}-${to}`}`;
}

/** A security group of the stack by its `name` (`security group ums-edge-uv-alb-sg`), or a literal id. */
function groupName(reader: StackReader, value: unknown): string | undefined {
  const address = referenced(value);
  if (!address) return literal(value);
  const group = reader.resources("aws_security_group").find((g) => g.address === address);
  return `security group ${(group && literal(group.body.name)) ?? address}`;
}

function ingressOf(reader: StackReader, groups: readonly string[]): IngressModel[] {
  return reader
    .resources("aws_vpc_security_group_ingress_rule")
    .filter((r) => groups.includes(referenced(r.body.security_group_id) ?? ""))
    .map((r) => ({
      ports: portsOf(r.body),
      from: literal(r.body.cidr_ipv4) ?? literal(r.body.cidr_ipv6) ?? groupName(reader, r.body.referenced_security_group_id) ?? "?",
      description: literal(r.body.description),
    }));
}

/** The instances of the stack in `stackDir`, in the order of cdk.tf.json. */
export function readInstances(stackDir: string): InstanceModel[] {
  const reader = openStack(stackDir);
  return reader.resources("aws_instance").map((instance) => {
    const groups = (Array.isArray(instance.body.vpc_security_group_ids) ? instance.body.vpc_security_group_ids : []).map((g) => referenced(g) ?? String(g));
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
      ingress: ingressOf(reader, groups),
    };
  });
}
