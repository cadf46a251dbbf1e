import { Construct, IamInstanceProfile, IamRole, IamRolePolicyAttachment } from "./aws";

export interface SsmInstanceProfileProps {
  /** Prefix of the role and profile names. */
  readonly namePrefix: string;
  /** AWS partition of the region (`aws`, `aws-cn`, `aws-us-gov`), for the managed policy's ARN. @default "aws" */
  readonly partition?: string;
}

/**
 * An instance profile that lets AWS Systems Manager reach the instance (Session Manager shell and
 * port forwarding, e.g. to the UMS Console's 8443) without any inbound port: the role EC2 assumes
 * with AWS's managed policy AmazonSSMManagedInstanceCore (Systems Manager user guide, "Configure
 * instance permissions required for Systems Manager").
 */
export class SsmInstanceProfile extends Construct {
  readonly profile: IamInstanceProfile;

  constructor(scope: Construct, id: string, props: SsmInstanceProfileProps) {
    super(scope, id);
    const role = new IamRole(this, "role", {
      namePrefix: `${props.namePrefix}-ssm-`,
      description: "Lets AWS Systems Manager manage the instance (Session Manager, no inbound ports)",
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    new IamRolePolicyAttachment(this, "core", { role: role.name, policyArn: `arn:${props.partition ?? "aws"}:iam::aws:policy/AmazonSSMManagedInstanceCore` });
    this.profile = new IamInstanceProfile(this, "profile", { namePrefix: `${props.namePrefix}-ssm-`, role: role.name });
  }
}
