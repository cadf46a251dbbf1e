import { Construct, DataAwsCallerIdentity } from "./aws";
import { SecureBucket } from "./secure-bucket";
import { logDeliveryPrincipal } from "./elb-log-delivery";

export interface LogBucketProps {
  /** Bucket name prefix. */
  readonly namePrefix: string;
  /** Region of the ALB: chooses the log delivery principal. */
  readonly region: string;
  /** Key prefix; logs go under `<prefix>/access`, `<prefix>/connection` and `<prefix>/health`. @default "alb" */
  readonly prefix?: string;
  /** Let `terraform destroy` delete the bucket with the logs in it. @default false: destroy stops at a bucket that holds logs, and keeps them */
  readonly forceDestroy?: boolean;
}

/**
 * The bucket the ALB writes its access, connection and health-check logs to. ELB user guide, "Enable
 * access logs" / "Enable connection logs" / "Enable health check logs", step "Attach a policy to your
 * S3 bucket": the same grant (by region) for each log type, under `<prefix>/AWSLogs/<account>/`.
 */
export class LogBucket extends Construct {
  readonly store: SecureBucket;
  readonly accessPrefix: string;
  readonly connectionPrefix: string;
  readonly healthCheckPrefix: string;

  constructor(scope: Construct, id: string, props: LogBucketProps) {
    super(scope, id);
    const prefix = props.prefix ?? "alb";
    this.accessPrefix = `${prefix}/access`;
    this.connectionPrefix = `${prefix}/connection`;
    this.healthCheckPrefix = `${prefix}/health`;
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    const principal = logDeliveryPrincipal(props.region);
    this.store = new SecureBucket(this, "store", {
      namePrefix: `${props.namePrefix}-logs-`,
      forceDestroy: props.forceDestroy ?? false,
      statements: (arn) => [
        {
          Sid: "AllowElbLogDelivery",
          Effect: "Allow",
          Principal: principal,
          Action: "s3:PutObject",
          Resource: [this.accessPrefix, this.connectionPrefix, this.healthCheckPrefix].map((p) => `${arn}/${p}/AWSLogs/${account}/*`),
        },
      ],
    });
  }
}
