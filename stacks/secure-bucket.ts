import { Construct, S3Bucket, S3BucketOwnershipControls, S3BucketPolicy, S3BucketPublicAccessBlock, S3BucketServerSideEncryptionConfiguration, S3BucketVersioning } from "./aws";

export interface SecureBucketProps {
  /** Bucket name prefix; AWS appends a unique suffix. At most 37 characters. */
  readonly namePrefix: string;
  /** Policy statements besides the TLS-only deny, given the bucket's ARN. @default none */
  readonly statements?: (bucketArn: string) => object[];
  /** Let `terraform destroy` delete the bucket while it still holds objects (logs, bundle versions). @default false: destroy keeps a non-empty bucket */
  readonly forceDestroy?: boolean;
}

/** A private S3 bucket: versioned, SSE-S3 encrypted, public access blocked, owner-enforced, TLS-only policy. */
export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly versioning: S3BucketVersioning;
  readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, "bucket", { bucketPrefix: props.namePrefix, forceDestroy: props.forceDestroy ?? false });
    const bucket = this.bucket.id;
    this.versioning = new S3BucketVersioning(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    // SSE-S3 (AES256): ELB log delivery does not support SSE-KMS buckets.
    new S3BucketServerSideEncryptionConfiguration(this, "encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
    const arn = this.bucket.arn;
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [arn, `${arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
          ...(props.statements?.(arn) ?? []),
        ],
      }),
      // S3 refuses a policy while the public access block is being applied.
      dependsOn: [publicAccess],
    });
  }
}
