import { Construct } from "constructs";
import { DataAwsAmi, Eip, Instance, SecurityGroup, VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule } from "./aws";
import { DEVICE_PORT } from "../core/igel";
import type { Backend } from "../core/igel";

/** AMI searches per backend: the IGEL guide runs the UMS on Windows Server 2022; the ICG runs on Linux. */
export const AMI_SEARCH: Readonly<Record<Backend, { readonly owners: string[]; readonly namePattern: string; readonly description: string }>> = {
  ums: { owners: ["amazon"], namePattern: "Windows_Server-2022-English-Full-Base-*", description: "Windows Server 2022 (latest)" },
  icg: { owners: ["099720109477"], namePattern: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*", description: "Ubuntu 24.04 LTS (latest)" },
};

export const BACKEND_PORT = DEVICE_PORT;

export interface BackendInstanceProps {
  /** Prefix of resource names. */
  readonly namePrefix: string;
  readonly backend: Backend;
  readonly vpcId: string;
  readonly subnetId: string;
  /** @default t3.xlarge (set by the config) */
  readonly instanceType: string;
  /** EC2 key pair (Windows: needed to decrypt the Administrator password). @default none */
  readonly keyName?: string;
  readonly rootVolumeGiB: number;
  /** Who may reach port 8443: the ALB's security group (ALB variants) or device CIDRs (direct). */
  readonly admit: { readonly securityGroupId: string } | { readonly cidrs: readonly string[] };
}

/** The UMS (or ICG) EC2 instance with its security group and a static public IP. */
export class BackendInstance extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly instance: Instance;
  readonly eip: Eip;

  constructor(scope: Construct, id: string, props: BackendInstanceProps) {
    super(scope, id);
    const name = `${props.namePrefix}-${props.backend}`;
    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${name}-sg`,
      description: `${props.backend.toUpperCase()} instance: port ${BACKEND_PORT} only`,
      vpcId: props.vpcId,
      tags: { Name: `${name}-sg` },
    });
    const sg = this.securityGroup.id;
    if ("securityGroupId" in props.admit) {
      new VpcSecurityGroupIngressRule(this, "from-alb", {
        securityGroupId: sg,
        description: "HTTPS 8443 from the ALB only",
        ipProtocol: "tcp",
        fromPort: BACKEND_PORT,
        toPort: BACKEND_PORT,
        referencedSecurityGroupId: props.admit.securityGroupId,
      });
    } else {
      props.admit.cidrs.forEach((cidr, i) => {
        new VpcSecurityGroupIngressRule(this, `from-devices-${i}`, {
          securityGroupId: sg,
          description: "HTTPS 8443 from devices",
          ipProtocol: "tcp",
          fromPort: BACKEND_PORT,
          toPort: BACKEND_PORT,
          ...(cidr.includes(":") ? { cidrIpv6: cidr } : { cidrIpv4: cidr }),
        });
      });
    }
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
    this.instance = new Instance(this, "instance", {
      ami: ami.id,
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [sg],
      keyName: props.keyName,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: props.rootVolumeGiB, deleteOnTermination: true },
      tags: { Name: name },
      // A newer AMI must not replace a running UMS on the next apply.
      lifecycle: { ignoreChanges: ["ami"] },
    });
    this.eip = new Eip(this, "eip", { domain: "vpc", instance: this.instance.id, tags: { Name: `${name}-eip` } });
  }
}
