/**
 * The one seam between ums-edge and the CDK: the only file in stacks/ that imports `constructs`,
 * `cdktf` or `@cdktf/provider-aws`. Every other file imports from here, so moving to CDK Terrain
 * (`cdktn`, `@cdktn/provider-aws`) or another provider build means changing these lines only
 * (scripts/cdktn-compare.ts proves it by swapping this file alone).
 *
 * Each provider resource comes from its own module path: the package's barrel costs ~10x the time
 * and ~8x the memory.
 */
export { Construct } from "constructs";
export { App, AssetType, Fn, LocalBackend, S3Backend, TerraformAsset, TerraformOutput, TerraformStack } from "cdktf";
export type { ITerraformDependable } from "cdktf";

export { AwsProvider } from "@cdktf/provider-aws/lib/provider";
export { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
export { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
export { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
export { S3BucketVersioningA as S3BucketVersioning } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
export { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
export { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
export { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
export { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
export { S3Object } from "@cdktf/provider-aws/lib/s3-object";
export { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
export { Lb } from "@cdktf/provider-aws/lib/lb";
export { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
export { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
export { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
export { LbTargetGroupAttachment } from "@cdktf/provider-aws/lib/lb-target-group-attachment";
export { LbTrustStore } from "@cdktf/provider-aws/lib/lb-trust-store";
export { LbTrustStoreRevocation } from "@cdktf/provider-aws/lib/lb-trust-store-revocation";
export { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
export { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
export { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
export { Instance } from "@cdktf/provider-aws/lib/instance";
export { Eip } from "@cdktf/provider-aws/lib/eip";
export { IamRole } from "@cdktf/provider-aws/lib/iam-role";
export { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
export { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
