import { Construct } from "constructs";
import { DataAwsCallerIdentity } from "./aws";
import { SecureBucket } from "./secure-bucket";
import { logDeliveryPrincipal } from "./elb-log-delivery";

export interface LogBucketProps {
  /** Bucket name prefix. */
  readonly namePrefix: string;
  /** Region of the ALB: chooses the log delivery principal. */
  readonly region: string;
  /** Key prefix; access logs go under `<prefix>/access`, connection logs under `<prefix>/connection`. */
  readonly prefix: string;
}

/** The bucket the ALB writes its access and connection logs to. */
export class LogBucket extends Construct {
  readonly store: SecureBucket;
  readonly accessPrefix: string;
  readonly connectionPrefix: string;

  constructor(scope: Construct, id: string, props: LogBucketProps) {
    super(scope, id);
    this.accessPrefix = `${props.prefix}/access`;
    this.connectionPrefix = `${props.prefix}/connection`;
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    const principal = logDeliveryPrincipal(props.region);
    this.store = new SecureBucket(this, "store", {
      namePrefix: `${props.namePrefix}-logs-`,
      statements: (arn) => [
        {
          Sid: "AllowElbLogDelivery",
          Effect: "Allow",
          Principal: principal,
          Action: "s3:PutObject",
          Resource: [this.accessPrefix, this.connectionPrefix].map((p) => `${arn}/${p}/AWSLogs/${account}/*`),
        },
      ],
    });
  }
}
