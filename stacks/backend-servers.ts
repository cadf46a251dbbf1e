import { Construct, DataAwsAmi, Eip, Instance, SecurityGroup, VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule } from "./aws";
import { DEVICE_PORT } from "../core/igel";
import type { Backend } from "../core/igel";
import { SsmInstanceProfile } from "./ssm-instance-profile";
import { propsChecker } from "./props-error";

/** AMI searches per backend: the IGEL guide runs the UMS on Windows Server 2022; the ICG runs on Linux. */
export const AMI_SEARCH: Readonly<Record<Backend, { readonly owners: string[]; readonly namePattern: string; readonly description: string }>> = {
  ums: { owners: ["amazon"], namePattern: "Windows_Server-2022-English-Full-Base-*", description: "Windows Server 2022 (latest)" },
  icg: { owners: ["099720109477"], namePattern: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*", description: "Ubuntu 24.04 LTS (latest)" },
};

/** How an administrator reaches the server's operating system: RDP on Windows (UMS), SSH on Linux (ICG). */
export const ADMIN_ACCESS: Readonly<Record<Backend, { readonly port: number; readonly protocol: string }>> = {
  ums: { port: 3389, protocol: "RDP" },
  icg: { port: 22, protocol: "SSH" },
};

/** The backend listens where devices would reach it directly (the ALB's target port). */
export const BACKEND_PORT = DEVICE_PORT;

/** AWS's quota of targets per target group (ELB user guide, "Quotas for your Application Load Balancers"). */
const MAX_SERVERS = 1000;

export interface BackendServersProps {
  /** Prefix of resource names. */
  readonly namePrefix: string;
  /** What the servers run: chooses the AMI (Windows for a UMS, Linux for an ICG) and the admin port. */
  readonly backend: Backend;
  /** The VPC of the servers' security group. */
  readonly vpcId: string;
  /** Subnets the servers are spread over in turn (server i in `subnetIds[i % length]`). */
  readonly subnetIds: readonly string[];
  /** Who may reach the backend port: the ALB's security group (ALB variants) or device CIDRs (direct). */
  readonly admit: { readonly securityGroupId: string } | { readonly cidrs: readonly string[] };
  /** How many servers (a UMS HA cluster shares one database; the ALB spreads devices over them). @default 1 */
  readonly count?: number;
  /** @default "t3.xlarge" */
  readonly instanceType?: string;
  /** EC2 key pair (Windows: needed to decrypt the Administrator password). @default none */
  readonly keyName?: string;
  /** Encrypted gp3 root volume size. @default 100 */
  readonly rootVolumeGiB?: number;
  /** Administrators' networks: RDP 3389 to a UMS, SSH 22 to an ICG. @default none: no administrative port is open */
  readonly adminCidrs?: readonly string[];
  /** Attach an instance profile for AWS Systems Manager (Session Manager, no inbound port needed). @default false */
  readonly ssm?: boolean;
  /** AWS partition, for the Systems Manager policy ARN. @default "aws" */
  readonly partition?: string;
}

/** Prop checks in the words of the construct's fields. */
export function validateBackendServersProps(props: BackendServersProps): void {
  const { check } = propsChecker("BackendServers");
  const count = props.count ?? 1;
  check(Number.isInteger(count) && count >= 1 && count <= MAX_SERVERS, "count", `'count' ${count} is not a number of servers (1-${MAX_SERVERS})`);
  check(props.subnetIds.length >= 1, "subnetIds", "'subnetIds' is empty; the servers need a subnet");
  check("securityGroupId" in props.admit || props.admit.cidrs.length > 0, "admit", `'admit.cidrs' is empty: nothing could reach port ${BACKEND_PORT}`);
}

/** One server: its instance and static public IP. */
export interface BackendServer {
  readonly instance: Instance;
  readonly eip: Eip;
}

/**
 * The UMS (or ICG) EC2 instances with one security group and a static public IP each, spread over
 * the given subnets (and so over their Availability Zones).
 */
export class BackendServers extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly servers: readonly BackendServer[];

  constructor(scope: Construct, id: string, props: BackendServersProps) {
    super(scope, id);
    validateBackendServersProps(props);
    const name = `${props.namePrefix}-${props.backend}`;
    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${name}-sg`,
      // Constant text: AWS replaces a security group whose description changes.
      description: `${props.backend.toUpperCase()} instance: ${BACKEND_PORT} from the front, admin access only as configured`,
      vpcId: props.vpcId,
      tags: { Name: `${name}-sg` },
    });
    const sg = this.securityGroup.id;
    const ingress = (ruleId: string, port: number, description: string, from: { referencedSecurityGroupId: string } | { cidr: string }) =>
      new VpcSecurityGroupIngressRule(this, ruleId, {
        securityGroupId: sg,
        description,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        ...("cidr" in from ? (from.cidr.includes(":") ? { cidrIpv6: from.cidr } : { cidrIpv4: from.cidr }) : from),
      });
    if ("securityGroupId" in props.admit) {
      ingress("from-alb", BACKEND_PORT, `HTTPS ${BACKEND_PORT} from the ALB only`, { referencedSecurityGroupId: props.admit.securityGroupId });
    } else {
      props.admit.cidrs.forEach((cidr, i) => ingress(`from-devices-${i}`, BACKEND_PORT, `HTTPS ${BACKEND_PORT} from devices`, { cidr }));
    }
    const admin = ADMIN_ACCESS[props.backend];
    (props.adminCidrs ?? []).forEach((cidr, i) => ingress(`admin-${i}`, admin.port, `${admin.protocol} from administrators`, { cidr }));
    // Outbound stays open: Windows Update, IGEL App Portal, and (ICG variants) the UMS connecting out.
    new VpcSecurityGroupEgressRule(this, "egress", { securityGroupId: sg, description: "all outbound", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });

    const search = AMI_SEARCH[props.backend];
    const ami = new DataAwsAmi(this, "ami", {
      mostRecent: true,
      owners: search.owners,
      filter: [
        { name: "name", values: [search.namePattern] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
      ],
    });
    const profile = props.ssm ? new SsmInstanceProfile(this, "ssm", { namePrefix: name, partition: props.partition }).profile.name : undefined;
    const count = props.count ?? 1;
    this.servers = Array.from({ length: count }, (_, i) => {
      // The first server keeps the ids of a single-server stack, so adding servers never replaces it.
      const suffix = i === 0 ? "" : `-${i + 1}`;
      const serverName = count === 1 ? name : `${name}-${i + 1}`;
      const instance = new Instance(this, `instance${suffix}`, {
        ami: ami.id,
        instanceType: props.instanceType ?? "t3.xlarge",
        subnetId: props.subnetIds[i % props.subnetIds.length],
        vpcSecurityGroupIds: [sg],
        keyName: props.keyName,
        iamInstanceProfile: profile,
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: props.rootVolumeGiB ?? 100, deleteOnTermination: true },
        tags: { Name: serverName },
        // A newer AMI must not replace a running UMS on the next apply.
        lifecycle: { ignoreChanges: ["ami"] },
      });
      const eip = new Eip(this, `eip${suffix}`, { domain: "vpc", instance: instance.id, tags: { Name: `${serverName}-eip` } });
      return { instance, eip };
    });
  }
}
